package hostapi

import "time"

// SetCallTimeout shortens the safety timeout of calls begun afterwards.
func (s *Server) SetCallTimeout(d time.Duration) { s.timeout = d }
