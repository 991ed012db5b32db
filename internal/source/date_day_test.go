package source

import (
	"testing"
	"time"
)

func TestDay(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"UTCEveningIsChinasNextDay", time.Date(2026, 6, 29, 20, 0, 0, 0, time.UTC), "2026-06-30"},
		{"UTCAfternoon", time.Date(2026, 6, 29, 15, 59, 59, 0, time.UTC), "2026-06-29"},
		{"ChinaMidnight", time.Date(2026, 7, 1, 0, 0, 0, 0, China), "2026-07-01"},
		{"OtherZone", time.Date(2026, 12, 31, 12, 0, 0, 0, time.FixedZone("PST", -8*3600)), "2027-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Day(tc.at)
			if got.Format("2006-01-02") != tc.want || got.Location() != time.UTC || got.Hour() != 0 {
				t.Errorf("Day(%v) = %v, want %s midnight UTC", tc.at, got, tc.want)
			}
		})
	}
}
