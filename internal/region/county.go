package region

import "sync"

var (
	countiesOnce sync.Once
	counties     map[string]bool
)

// KnownCounty reports whether the 6-digit address code of an ID (its first
// six characters) is a county of the shipped division tables. An unknown
// one is no damage, since abolished codes stay on old IDs (issue 9.4), but
// a page may point it out.
func KnownCounty(id string) bool {
	if len(id) < 6 {
		return false
	}
	countiesOnce.Do(func() {
		counties = map[string]bool{}
		rows, err := readTable(Embedded(), "areas.csv.gz", 2, "")
		if err != nil {
			return // the tables are compiled in; a read error leaves every code unknown
		}
		for _, r := range rows {
			counties[r[0].(string)] = true
		}
	})
	return counties[id[:6]]
}
