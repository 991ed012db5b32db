package idcard

// provinces marks the province-level address codes of GB/T 2260 (two
// digits) that IDs carry: the 31 mainland provinces, 71 Taiwan, 81 Hong
// Kong, 82 Macao, and 83, which residence permits for Taiwan residents use.
var provinces = func() (m [100]bool) {
	for _, c := range []int{
		11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
		41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
		71, 81, 82, 83,
	} {
		m[c] = true
	}
	return m
}()

// knownProvince reports whether the address code of s (at least 3 ASCII
// digits) starts with a province, or is a foreigner's permanent-residence
// number: 9 followed by the issuing province. A county code the division
// tables do not know is not judged here: abolished codes stay on old IDs.
func knownProvince[T ~string | ~[]byte](s T) bool {
	p := int(s[0]-'0')*10 + int(s[1]-'0')
	if provinces[p] {
		return true
	}
	return s[0] == '9' && provinces[int(s[1]-'0')*10+int(s[2]-'0')]
}

// KnownProvince reports whether an ID's first digits name a province (or
// a foreigner's permanent-residence number issued in one); false for
// anything shorter than 3 digits.
func KnownProvince(id string) bool {
	for i := 0; i < 3; i++ {
		if i >= len(id) || id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return knownProvince(id)
}
