package imports

import (
	"testing"
	"time"
)

// TestRowHashCoversEveryTypedColumn: changing any one typed column, or
// moving a value from one column to the next, changes the digest.
func TestRowHashCoversEveryTypedColumn(t *testing.T) {
	day := time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC)
	base := typed{id: "440981198005010012", name: "张三", sex: "男", birth: day, household: "H1", relation: "户主",
		region: "440981107204", hukou: "440981107204", pop: "正常", scheme: "居民医疗", enroll: 1, pay: 1, enrollDate: day}
	changes := map[string]func(*typed){
		"id": func(r *typed) { r.id = "440981198005010020" }, "damage": func(r *typed) { r.damage = "check" },
		"name": func(r *typed) { r.name = "张四" }, "sex": func(r *typed) { r.sex = "女" },
		"birth": func(r *typed) { r.birth = day.AddDate(0, 0, 1) }, "household": func(r *typed) { r.household = "H2" },
		"relation": func(r *typed) { r.relation = "子女" }, "region": func(r *typed) { r.region = "440981107205" },
		"hukou": func(r *typed) { r.hukou = "" }, "pop": func(r *typed) { r.pop = "死亡" },
		"scheme": func(r *typed) { r.scheme = "" }, "enroll": func(r *typed) { r.enroll = 2 },
		"pay": func(r *typed) { r.pay = 3 }, "enrollDate": func(r *typed) { r.enrollDate = time.Time{} },
		"death": func(r *typed) { r.death = day },
		"shift": func(r *typed) { r.household, r.relation = "H1户", "主" },
	}
	same := base
	if base.hash() != same.hash() {
		t.Fatal("equal records hash differently")
	}
	seen := map[uint64]string{base.hash(): "base"}
	for name, change := range changes {
		r := base
		change(&r)
		h := r.hash()
		if prev, ok := seen[h]; ok {
			t.Errorf("changing %s gives the digest of %s", name, prev)
		}
		seen[h] = name
	}
}
