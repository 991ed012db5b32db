package auth

import "time"

// SetNow replaces a store's clock (tests of session expiry).
func SetNow(s *Store, now func() time.Time) { s.now = now }
