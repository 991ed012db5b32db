package registry

import (
	"testing"
	"time"
)

// TestDates: the civil arithmetic agrees with the time package on every
// day from 1900 to 2100, and refuses what is no date.
func TestDates(t *testing.T) {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2100; d = d.AddDate(0, 0, 1) {
		days := int32(d.Sub(epoch).Hours() / 24)
		want := d.Format("2006-01-02")
		if got := string(AppendDate(nil, days)); got != want {
			t.Fatalf("AppendDate(%d) = %s, want %s", days, got, want)
		}
		if back, ok := parseDate([]byte(want)); !ok || back != days {
			t.Fatalf("parseDate(%s) = %d %v, want %d", want, back, ok, days)
		}
	}
	for _, bad := range []string{"", "2000-02-30", "1999-02-29", "2000-13-01", "2000-00-10", "2000-1-01", "2000/01/01", "20000101", "2000-01-0x"} {
		if _, ok := parseDate([]byte(bad)); ok {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}
