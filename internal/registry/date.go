package registry

// Births travel as PostgreSQL's binary dates (days since 2000-01-01) and
// as YYYY-MM-DD text; converting by the civil calendar arithmetic below
// costs a few nanoseconds, where time.Time would cost a hundred, for each
// of a million persons.

// epochDays is 2000-01-01 counted from 1970-01-01.
const epochDays = 10957

// AppendDate appends the date days after 2000-01-01 (PostgreSQL's own
// count) as YYYY-MM-DD, the form Persons.Value gives a birth in.
func AppendDate(buf []byte, days int32) []byte {
	y, m, d := civil(int64(days) + epochDays)
	if y < 0 || y > 9999 {
		return append(buf, "0000-00-00"...)
	}
	buf = append(buf, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	buf = append(buf, byte('0'+m/10), byte('0'+m%10), '-')
	return append(buf, byte('0'+d/10), byte('0'+d%10))
}

// parseDate reads YYYY-MM-DD as days after 2000-01-01; ok is false for
// anything else, including a day the month does not have.
func parseDate(b []byte) (int32, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	var n [8]int64
	for i, j := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		c := b[j]
		if c < '0' || c > '9' {
			return 0, false
		}
		n[i] = int64(c - '0')
	}
	y := n[0]*1000 + n[1]*100 + n[2]*10 + n[3]
	m := n[4]*10 + n[5]
	d := n[6]*10 + n[7]
	if m < 1 || m > 12 || d < 1 {
		return 0, false
	}
	days := daysFromCivil(y, m, d)
	if y2, m2, d2 := civil(days); y2 != y || m2 != m || d2 != d {
		return 0, false // 02-30 and the like
	}
	return int32(days - epochDays), true
}

// daysFromCivil counts days from 1970-01-01 (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civil is the inverse of daysFromCivil.
func civil(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
