package gateway

// Version is hookgate's version, sent as User-Agent: hookgate/<Version>. Release builds set
// it with -ldflags "-X github.com/hookgate/hookgate/gateway.Version=…".
var Version = "0.1.0-dev"
