package region

import "testing"

func TestShortAndLevel(t *testing.T) {
	cases := []struct {
		in, short string
		level     int
	}{
		{"440981107204", "440981107204", 5},
		{"440981107000", "440981107", 4},
		{"440981000000", "440981", 3},
		{"440900000000", "4409", 2},
		{"440000000000", "44", 1},
		{"440981002001", "440981002001", 5},
	}
	for _, c := range cases {
		got := Short(c.in)
		if got != c.short || LevelOf(got) != c.level {
			t.Errorf("Short(%s) = %s level %d, want %s level %d", c.in, got, LevelOf(got), c.short, c.level)
		}
	}
}

func TestWithin(t *testing.T) {
	if !Within("4409", "440981107204") || Within("440981", "440902001") || !Within("", "11") {
		t.Error("Within is a prefix test")
	}
}

func TestKnownCounty(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"440981199001011239", true},
		{"110105", true},
		{"440999199001011239", false}, // no such county
		{"16010519491231002", false},
		{"44", false},
	}
	for _, tt := range tests {
		if got := KnownCounty(tt.id); got != tt.want {
			t.Errorf("KnownCounty(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
