package compare

import (
	"slices"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/batchdiff"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

var asOf = day("2026-06-30")

func TestClassifyRules(t *testing.T) {
	adult := day("1980-05-01")
	local := Facts{Birth: adult, HukouLocal: true, HukouNormal: true}
	cases := []struct {
		name             string
		f                Facts
		universe         bool
		pension, medical string
		flags            Flag
		survey           bool
	}{
		{"LocalHukouUninsured", local, true, NotInsured, NotInsured, 0, true},
		{"Insured", with(local, func(f *Facts) { f.PensionSchemes, f.PensionOK, f.MedicalSchemes, f.AnyActive = 1, true, 1, true }),
			true, Insured, Insured, 0, false},
		{"AllPensionInterrupted", with(local, func(f *Facts) { f.PensionSchemes, f.MedicalSchemes, f.AnyActive = 1, 1, true }),
			true, Interrupted, Insured, 0, false},
		{"Age16OnAsOf", with(local, func(f *Facts) { f.Birth, f.MedicalSchemes = day("2010-06-30"), 1 }),
			true, NotInsured, Insured, 0, true},
		{"Age15DayBefore16", with(local, func(f *Facts) { f.Birth, f.MedicalSchemes = day("2010-07-01"), 1 }),
			true, NotApplied, Insured, 0, false},
		{"StudentExempt", with(local, func(f *Facts) { f.Birth, f.Student, f.MedicalSchemes = day("2005-01-01"), true, 1 }),
			true, NotApplied, Insured, 0, false},
		{"DeathOnAsOfNotLiving", with(local, func(f *Facts) { f.HasDeath, f.DeathDate = true, asOf }),
			false, NotApplied, NotApplied, FlagHukouPending, false},
		{"DeathAfterAsOfStillLiving", with(local, func(f *Facts) { f.HasDeath, f.DeathDate = true, asOf.AddDate(0, 0, 1) }),
			true, NotInsured, NotInsured, FlagHukouPending, true},
		{"DeadStillInsured", with(local, func(f *Facts) {
			f.HasDeath, f.DeathDate, f.HukouNormal, f.HukouLocal = true, day("2020-01-01"), false, false
			f.AnyActive, f.MedicalSchemes, f.LocalActive = true, 1, true
		}), false, NotApplied, NotApplied, FlagDeadInsured, false},
		{"CrossSchemeDuplicates", with(local, func(f *Facts) {
			f.PensionSchemes, f.PensionOK, f.MedicalSchemes, f.AnyActive = 2, true, 2, true
		}), true, Insured, Insured, FlagCrossPension | FlagCrossMedical, false},
		{"CrossRegion", with(local, func(f *Facts) { f.CrossRegion, f.MedicalSchemes, f.PensionOK, f.PensionSchemes = true, 1, true, 1 }),
			true, Insured, Insured, FlagCrossRegion, false},
		{"InfoErrorSurveyed", with(local, func(f *Facts) { f.InfoError, f.MedicalSchemes, f.PensionOK, f.PensionSchemes = true, 1, true, 1 }),
			true, Insured, Insured, FlagInfoError, true},
		{"NonLocalEnrollmentOnly", Facts{Birth: adult, LocalActive: true, AnyActive: true, MedicalSchemes: 1},
			true, NotInsured, Insured, FlagNonLocal, false},
		{"ResidentWithLocalEnrollment", Facts{Birth: adult, ResidentLocal: true, LocalActive: true, AnyActive: true, MedicalSchemes: 1},
			true, NotInsured, Insured, FlagNonLocal, true},
		{"ResidentInsuredElsewhere", Facts{Birth: adult, ResidentLocal: true, AnyActive: true, MedicalSchemes: 1},
			true, NotInsured, Insured, 0, true},
		{"LocalHukouWithLocalEnrollment", with(local, func(f *Facts) { f.LocalActive, f.AnyActive, f.MedicalSchemes = true, true, 1 }),
			true, NotInsured, Insured, 0, true},
		{"HukouElsewhereResidentInsuredHere", Facts{Birth: adult, HukouNormal: true, ResidentLocal: true, LocalActive: true, AnyActive: true, PensionSchemes: 1, PensionOK: true, MedicalSchemes: 1},
			true, Insured, Insured, FlagNonLocal, false},
		{"OutsideRegion", Facts{Birth: adult, HukouNormal: true}, false, NotApplied, NotApplied, 0, false},
		{"MovedOut", Facts{Birth: adult}, false, NotApplied, NotApplied, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Classify(c.f, asOf)
			if r.Universe != c.universe || r.Pension != c.pension || r.Medical != c.medical || r.Flags != int(c.flags) || r.Survey != c.survey {
				t.Errorf("got %+v (flags %s), want universe=%v %s %s flags=%s survey=%v", r, FlagNames(r.Flags),
					c.universe, c.pension, c.medical, FlagNames(int(c.flags)), c.survey)
			}
			if back := compact(r).result(); back != r {
				t.Errorf("kept as %+v, read back as %+v", compact(r), back)
			}
		})
	}
}

func with(f Facts, change func(*Facts)) Facts {
	change(&f)
	return f
}

func TestAgeOn(t *testing.T) {
	cases := []struct {
		birth, on string
		age       int
	}{
		{"2010-06-30", "2026-06-30", 16},
		{"2010-07-01", "2026-06-30", 15},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
		{"2008-02-29", "2028-02-29", 20},
	}
	for _, c := range cases {
		if got := AgeOn(day(c.birth), day(c.on)); got != c.age {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", c.birth, c.on, got, c.age)
		}
	}
	if AgeOn(time.Time{}, asOf) != -1 {
		t.Error("unknown birth must give -1")
	}
}

func TestPackSortsLikeText(t *testing.T) {
	ids := []string{"440981198001011234", "44098119800101123X", "440981198001011240", "110105194912310029"}
	for _, a := range ids {
		for _, b := range ids {
			pa, _ := pack(a)
			pb, _ := pack(b)
			if pbytes, _ := batchdiff.Pack([]byte(a)); pbytes != pa {
				t.Errorf("batchdiff.Pack(%s) = %d, pack = %d", a, pbytes, pa)
			}
			if (a < b) != (pa < pb) || unpack(pa) != a {
				t.Errorf("pack order/round trip broken for %s, %s", a, b)
			}
		}
	}
	k := knownIDs{}
	for _, id := range ids {
		v, _ := pack(id)
		k = append(k, v)
	}
	slices.Sort(k)
	if got := k.withPrefix15("440981198001011"); len(got) != 3 {
		t.Errorf("withPrefix15 = %v", got)
	}
}
