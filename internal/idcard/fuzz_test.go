package idcard

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse checks invariants on arbitrary input; seeds live in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	key := dateKey(today)
	f.Fuzz(func(t *testing.T, raw string) {
		n := ParseAt(raw, today)
		if n.Damage > BadRegion {
			t.Fatalf("ParseAt(%q): damage %d out of range", raw, n.Damage)
		}
		if norm := Normalize(raw); norm != n.Norm {
			t.Fatalf("Normalize(%q) = %q, ParseAt gave %q", raw, norm, n.Norm)
		}
		if again := Normalize(n.Norm); again != n.Norm {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", raw, n.Norm, again)
		}
		if n.Damage == OK {
			if len(n.Norm) != 18 || classify18(n.Norm, key) != OK {
				t.Fatalf("ParseAt(%q) = %+v: OK but not a valid 18-character ID", raw, n)
			}
			if again := ParseAt(n.Norm, today); again != (Number{Norm: n.Norm, Damage: OK}) {
				t.Fatalf("ParseAt(%q) = %+v, but its Norm parses as %+v", raw, n, again)
			}
		}
		if n.Damage == Mangled && len(n.Norm) != 18 {
			t.Fatalf("ParseAt(%q) = %+v: Mangled without 18 digits", raw, n)
		}
		if p := Prefix15(n); p != "" && (len(p) != 15 || !plainChars(p)) {
			t.Fatalf("Prefix15(%+v) = %q", n, p)
		}
		if m := Mask(n.Norm); utf8.RuneCountInString(m) != utf8.RuneCountInString(n.Norm) {
			t.Fatalf("Mask(%q) = %q changed the length", n.Norm, m)
		}
		for _, c := range neighbours(n.Norm, key) {
			if c == n.Norm || classify18(c, key) != OK {
				t.Fatalf("neighbours(%q) returned %q", n.Norm, c)
			}
		}
	})
}
