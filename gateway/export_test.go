package gateway

// SetStatsScan lowers the bound on the deliveries one Stats call reads, for a test, and
// returns the function that restores it.
func SetStatsScan(n int) (restore func()) {
	old := statsScan
	statsScan = n
	return func() { statsScan = old }
}
