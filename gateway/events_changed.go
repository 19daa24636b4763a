package gateway

// EventsChanged returns a channel that is closed when the next event is stored. A waiter
// reads what it needs (ListEvents after its cursor), then waits on a fresh EventsChanged
// taken before that read, so nothing stored in between is missed.
func (s *Service) EventsChanged() <-chan struct{} { return s.store.Appended() }
