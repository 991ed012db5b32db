// Package indicator holds every progress indicator of the 全民参保登记计划
// in one place: what each counts, over which persons, and the SQL that finds
// those persons, so the snapshot job, the dashboards, the reports and the
// lists behind every figure all count the same persons.
//
// The specification is the ministry's 2017 notice (seed 003, 全民参保登记
// 工作进度表 and its 主要指标解释; DOMAIN §8). Each indicator is a ratio of two
// person counts (a Part over a Part) or a plain count.
//
// # Where the numbers come from
//
// A place's comparison data is its current run: the newest successful
// comparison run whose region covers the place (as of a day: runs started
// before the day ended). A newer run of a smaller region replaces an older
// run of a larger one for that smaller region only, so a city whose counties
// are compared one by one, or compared together and later one county again,
// still counts every person once, from the newest data about where they
// live; and every region's numbers are the sum of its children's (plus
// persons whose address names only the region itself).
//
// A place's survey data is its current survey round, chosen the same way
// (rounds created before the day ended). Survey states follow migration
// 000009: a target member is visited (入户) when their live form is
// submitted, approved or returned, confirmed (完成) when it is approved, and
// corrected (更正) when it is approved and the member was flagged 信息有误.
// As of a past day, a live form counts only from its submission (visited) or
// review (confirmed) time on; a form that was superseded since is not seen,
// so a past day's survey numbers can only be lower than they were then.
package indicator

import "fmt"

// Part is a set of persons an indicator counts; every part has a list.
type Part string

// The parts. Each is a boolean column of the facts query (facts.go), where
// its exact predicate is written once.
const (
	// Population 常住人口: persons in the universe (登记对象, DOMAIN §5) of the
	// current run of their place. Seed 003 divides by 常住人口数; the universe
	// is this system's resident population.
	Population Part = "population"
	// Registered 已确认登记入库人数 (seed 003 item 7): persons of Population who
	// have a registry entry (person row) and whose information is confirmed:
	// either the comparison left nothing to check about them (not a survey
	// target of the run) or their survey form was approved in the current
	// round. Table 一 counts the same way: (2) confirmed by comparison, (6)
	// confirmed by the survey.
	Registered Part = "registered"
	// ToSurvey 需入户调查人数: target members of the current round of their
	// place (survey_member.target); in a place no round covers, the run's
	// survey targets (DOMAIN §5 入户调查).
	ToSurvey Part = "to_survey"
	// Visited 开展入户调查人数 (seed 003 item 5): persons of ToSurvey whose live
	// form is submitted, approved or returned (000009 visited). Places
	// without a round have none.
	Visited Part = "visited"
	// Confirmed 已通过入户调查确认登记人数 (seed 003 item 6): persons of ToSurvey
	// whose live form is approved (000009 confirmed).
	Confirmed Part = "confirmed"
	// ErrorsFound 已发现错误信息数 (seed 003 item 8): persons of Population the
	// current run flags 信息有误 (counted per person, not per field).
	ErrorsFound Part = "errors_found"
	// Corrected 已更正错误信息数: persons of ErrorsFound who are members of the
	// current round flagged 信息有误 with an approved live form (000009
	// corrected).
	Corrected Part = "corrected"
	// ExpansionBase 应保未保人数 (seed 003 item 9): persons who were 应参未参
	// (pension or medical) in the run a current round was published from
	// (the round's first run: min(survey_household.added_run)), in the
	// round's places. A place without a round (or, as of a past day, whose
	// round's run had not started yet) has no base.
	ExpansionBase Part = "expansion_base"
	// Expanded 通过扩面新增入库人数: persons of ExpansionBase who, in the
	// current run covering the round's region, are 已参保 in every scheme
	// (养老, 医疗) they were 应参未参 in.
	Expanded Part = "expanded"
	// InternalCompared 已完成社保系统内部信息比对人数 (seed 003 item 1): persons of
	// Population whose current run compared 参保信息 extracts (each scheme
	// system's data).
	InternalCompared Part = "internal_compared"
	// CrossCompared 已完成跨部门信息比对人数 (seed 003 item 2): persons of
	// Population whose current run compared extracts of other departments
	// (户籍, 居住, 死亡, 在校学生). 跨地市 and 跨省 comparisons (items 3, 4)
	// need provincial and national data this system does not hold: they
	// have no part and are shown as 无数据.
	CrossCompared Part = "cross_compared"
	// NotInsured 应参未参人数: persons of Population who are 应参未参 in pension
	// or medical insurance; the statistics of the not insured count these.
	NotInsured Part = "not_insured"
)

// Parts lists every part, in the order of the facts query's columns.
var Parts = []Part{Population, Registered, ToSurvey, Visited, Confirmed, ErrorsFound, Corrected,
	ExpansionBase, Expanded, InternalCompared, CrossCompared, NotInsured}

var partLabels = map[Part]string{
	Population:       "常住人口（登记对象）",
	Registered:       "已确认登记入库人数",
	ToSurvey:         "需入户调查人数",
	Visited:          "已入户人数",
	Confirmed:        "已通过入户调查确认登记人数",
	ErrorsFound:      "已发现错误信息人数",
	Corrected:        "已更正错误信息人数",
	ExpansionBase:    "应保未保人数",
	Expanded:         "通过扩面新增参保人数",
	InternalCompared: "已完成社保系统内部比对人数",
	CrossCompared:    "已完成跨部门比对人数",
	NotInsured:       "应参未参人数",
}

// Label is the part's Chinese name.
func (p Part) Label() string {
	if l, ok := partLabels[p]; ok {
		return l
	}
	return string(p)
}

// PartByKey finds a part by its key.
func PartByKey(key string) (Part, bool) {
	for _, p := range Parts {
		if string(p) == key {
			return p, true
		}
	}
	return "", false
}

// Indicator is one figure of the progress table: Num over Den, or a count
// of Num when Den is empty.
type Indicator struct {
	Key   string
	Label string
	Num   Part
	Den   Part // "" for a count
}

// Rate reports whether the indicator is a ratio.
func (i Indicator) Rate() bool { return i.Den != "" }

// The indicators, as the dashboard shows them.
var (
	// PopulationCount 常住人口 (the denominator of seed 003 items 1–4 and 7).
	PopulationCount = Indicator{"population", "常住人口", Population, ""}
	// RegisteredCount 登记入库人数.
	RegisteredCount = Indicator{"registered", "已确认登记入库人数", Registered, ""}
	// ToSurveyCount 需入户调查人数.
	ToSurveyCount = Indicator{"to_survey", "需入户调查人数", ToSurvey, ""}
	// NotInsuredCount 应参未参人数.
	NotInsuredCount = Indicator{"not_insured", "应参未参人数", NotInsured, ""}
	// RegistrationRate 登记信息入库率 = 已确认登记入库人数 / 常住人口数 (seed 003 item 7).
	RegistrationRate = Indicator{"registration_rate", "登记信息入库率", Registered, Population}
	// VisitRate 入户率 = 开展入户调查人数 / 需入户调查人数 (item 5).
	VisitRate = Indicator{"visit_rate", "入户率", Visited, ToSurvey}
	// SurveyRate 入户调查完成率 = 已通过入户调查确认登记人数 / 需入户调查人数 (item 6).
	SurveyRate = Indicator{"survey_rate", "入户调查完成率", Confirmed, ToSurvey}
	// CorrectionRate 错误信息更正率 = 已更正错误信息数 / 已发现错误信息数 (item 8).
	CorrectionRate = Indicator{"correction_rate", "错误信息更正率", Corrected, ErrorsFound}
	// ExpansionRate 应保未保人口扩面率 = 通过扩面新增入库人数 / 应保未保人数 (item 9).
	ExpansionRate = Indicator{"expansion_rate", "应保未保人口扩面率", Expanded, ExpansionBase}
	// InternalCompareRate 社保系统内部登记信息比对完成率 (item 1).
	InternalCompareRate = Indicator{"internal_compare_rate", "社保系统内部登记信息比对完成率", InternalCompared, Population}
	// CrossCompareRate 跨部门登记信息比对完成率 (item 2).
	CrossCompareRate = Indicator{"cross_compare_rate", "跨部门登记信息比对完成率", CrossCompared, Population}
)

// All lists every indicator, headline first.
var All = []Indicator{PopulationCount, RegisteredCount, ToSurveyCount, NotInsuredCount, RegistrationRate, VisitRate,
	SurveyRate, CorrectionRate, ExpansionRate, InternalCompareRate, CrossCompareRate}

// ByKey finds an indicator by its key.
func ByKey(key string) (Indicator, bool) {
	for _, i := range All {
		if i.Key == key {
			return i, true
		}
	}
	return Indicator{}, false
}

// Value is an indicator's numbers in a region.
type Value struct {
	Num, Den int64
}

// Of is the indicator's value from a region's part counts.
func (i Indicator) Of(c Counts) Value {
	v := Value{Num: c[i.Num]}
	if i.Den != "" {
		v.Den = c[i.Den]
	}
	return v
}

// Ratio is Num/Den, and false when Den is 0 (no data, never a made-up 0%).
func (v Value) Ratio() (float64, bool) {
	if v.Den == 0 {
		return 0, false
	}
	return float64(v.Num) / float64(v.Den), true
}

// Percent is the ratio as a percentage with one decimal ("无数据" when the
// denominator is 0).
func (v Value) Percent() string {
	r, ok := v.Ratio()
	if !ok {
		return "无数据"
	}
	return fmt.Sprintf("%.1f%%", r*100)
}

// Counts are person counts by part for one region.
type Counts map[Part]int64
