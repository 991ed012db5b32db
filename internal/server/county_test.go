package server

import (
	"strings"
	"testing"
)

func TestCountyNote(t *testing.T) {
	tests := []struct {
		name, id string
		note     bool
	}{
		{"known county", "440981199001011239", false},
		{"unknown county", "440999199001011239", true},
		{"not an ID", "4409", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := countyNote(tt.id)
			if (got != "") != tt.note || tt.note && !strings.Contains(got, tt.id[:6]) {
				t.Errorf("countyNote(%q) = %q", tt.id, got)
			}
		})
	}
}
