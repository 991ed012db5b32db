package survey

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/source"
)

// Form is the 全民参保登记表 as entered (DOMAIN §6), kept in survey_form.data.
// Every item is text as typed (dates as YYYY-MM-DD), so a draft keeps
// whatever was typed, valid or not yet.
type Form struct {
	Name         string `json:"name"`
	IDNumber     string `json:"id_number"`
	Sex          string `json:"sex"`
	Ethnic       string `json:"ethnic"`
	Birth        string `json:"birth"`
	HukouAddress string `json:"hukou_address"`
	HomeAddress  string `json:"home_address"`
	Phone        string `json:"phone"`
	HukouType    string `json:"hukou_type"` // 城镇 / 农村
	HeadName     string `json:"head_name"`
	Relation     string `json:"relation"`
	Employment   string `json:"employment"`
	Employer     string `json:"employer"`
	// Schemes answers, per scheme key (source.Schemes), whether insured
	// (是/否, "" unanswered) and where (参保地).
	Schemes     map[string]SchemeAnswer `json:"schemes,omitempty"`
	Reason      string                  `json:"reason"` // 未参保原因
	ReasonText  string                  `json:"reason_text"`
	Willing     string                  `json:"willing"` // 参保意愿
	Method      string                  `json:"method"`  // 核查方式
	Surveyor    string                  `json:"surveyor"`
	SurveyedOn  string                  `json:"surveyed_on"`
	Note        string                  `json:"note"`
	Outcome     string                  `json:"outcome"` // present, moved, died
	OutcomeDate string                  `json:"outcome_date"`
}

// SchemeAnswer is one scheme's line of the form.
type SchemeAnswer struct {
	Insured string `json:"insured"` // 是, 否 or ""
	Place   string `json:"place"`
}

// The form's enumerations (DOMAIN §6).
var (
	Sexes       = []string{"男", "女"}
	HukouTypes  = []string{"城镇", "农村"}
	Employments = []string{"单位就业", "灵活就业", "务农", "未就业", "在校学生", "退休", "其他"}
	Reasons     = []string{"个人未参保", "缴费中断", "单位未予参保", "全日制在校生", "参军", "部队建账的随军家属", "出国", "判刑", "人户分离", "户口待注销", "其他"}
	Willings    = []string{"愿意参保", "不愿意参保", "已在外地参保"}
	Methods     = []string{"入户", "电话", "单位核实"}
	YesNo       = []string{"是", "否"}
)

// Outcomes of a visit: the member is there, moved away, or died.
const (
	OutcomePresent = "present"
	OutcomeMoved   = "moved"
	OutcomeDied    = "died"
)

// Outcomes lists the outcomes with their Chinese labels, in form order.
var Outcomes = []struct{ Value, Label string }{
	{OutcomePresent, "在户"}, {OutcomeMoved, "已迁出"}, {OutcomeDied, "已死亡"},
}

// OutcomeLabel is an outcome's Chinese label.
func OutcomeLabel(o string) string {
	for _, x := range Outcomes {
		if x.Value == o {
			return x.Label
		}
	}
	return o
}

// Willing is the 参保意愿 value the expansion drive follows up.
const Willing = "愿意参保"

// FieldErrors are a form's problems by field name (the HTML input names).
type FieldErrors map[string]string

// FormFromValues reads a posted form; unknown fields are ignored and every
// value is trimmed. The ID is normalized (full-width digits, lower-case x,
// 15 digits) as DOMAIN §1 allows.
func FormFromValues(v url.Values) Form {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := Form{Name: g("name"), IDNumber: g("id_number"), Sex: g("sex"), Ethnic: g("ethnic"), Birth: g("birth"),
		HukouAddress: g("hukou_address"), HomeAddress: g("home_address"), Phone: g("phone"), HukouType: g("hukou_type"),
		HeadName: g("head_name"), Relation: g("relation"), Employment: g("employment"), Employer: g("employer"),
		Reason: g("reason"), ReasonText: g("reason_text"), Willing: g("willing"), Method: g("method"),
		Surveyor: g("surveyor"), SurveyedOn: g("surveyed_on"), Note: g("note"), Outcome: g("outcome"), OutcomeDate: g("outcome_date")}
	if f.IDNumber != "" {
		if n := idcard.Parse(f.IDNumber); n.Valid() {
			f.IDNumber = n.Norm
		}
	}
	for _, o := range Outcomes { // the page offers the labels
		if f.Outcome == o.Label {
			f.Outcome = o.Value
		}
	}
	if f.Outcome == "" {
		f.Outcome = OutcomePresent
	}
	for _, s := range source.Schemes() {
		a := SchemeAnswer{Insured: g("ins_" + s.Code), Place: g("place_" + s.Code)}
		if a != (SchemeAnswer{}) {
			if f.Schemes == nil {
				f.Schemes = map[string]SchemeAnswer{}
			}
			f.Schemes[s.Key] = a
		}
	}
	return f
}

// mobile or landline (area code, dash optional, extension optional).
var phonePattern = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?|[0-9]{7,8})$`)

// maxText bounds free-text items: a form is typed by hand.
const maxText = 200

// Validate checks every item as typed: what is given must be well formed
// (a valid ID with its check character, real dates not in the future, one
// of the enumerated values), and for a submission the required items must
// be there. today is the calendar day dates are judged against.
func (f Form) Validate(submit bool, today time.Time) FieldErrors {
	errs := FieldErrors{}
	set := func(k, msg string) {
		if _, ok := errs[k]; !ok {
			errs[k] = msg
		}
	}
	oneOf := func(k, v string, allowed []string, label string) {
		if v != "" && !slices.Contains(allowed, v) {
			set(k, label+"须为："+strings.Join(allowed, "、"))
		}
	}
	date := func(k, v, label string) (time.Time, bool) {
		if v == "" {
			return time.Time{}, false
		}
		d, err := time.Parse("2006-01-02", v)
		if err != nil {
			set(k, label+"不是有效日期，应为 年-月-日，如 2026-07-15")
			return time.Time{}, false
		}
		if d.After(today) {
			set(k, label+"不能晚于今天")
			return d, false
		}
		return d, true
	}
	for k, v := range map[string]string{"name": f.Name, "ethnic": f.Ethnic, "hukou_address": f.HukouAddress, "home_address": f.HomeAddress,
		"head_name": f.HeadName, "relation": f.Relation, "employer": f.Employer, "reason_text": f.ReasonText, "surveyor": f.Surveyor, "note": f.Note} {
		if utf8.RuneCountInString(v) > maxText {
			set(k, "不能超过 "+strconv.Itoa(maxText)+" 个字")
		}
	}
	if f.IDNumber != "" {
		if n := idcard.ParseAt(f.IDNumber, today); !n.Valid() {
			set("id_number", "公民身份号码有误："+n.Damage.String())
		} else {
			if b, ok := idcard.Birth(n.Norm); ok && f.Birth != "" && f.Birth != b.Format("2006-01-02") {
				set("birth", "出生日期与身份证号码不符（号码中为 "+b.Format("2006-01-02")+"）")
			}
			if male, ok := idcard.Sex(n.Norm); ok && f.Sex != "" && (f.Sex == "男") != male {
				set("sex", "性别与身份证号码不符")
			}
		}
	}
	oneOf("sex", f.Sex, Sexes, "性别")
	date("birth", f.Birth, "出生日期")
	if f.Phone != "" && !phonePattern.MatchString(f.Phone) {
		set("phone", "联系电话应为 11 位手机号或带区号的固定电话")
	}
	oneOf("hukou_type", f.HukouType, HukouTypes, "户口性质")
	oneOf("employment", f.Employment, Employments, "就业状态")
	oneOf("reason", f.Reason, Reasons, "未参保原因")
	oneOf("willing", f.Willing, Willings, "参保意愿")
	oneOf("method", f.Method, Methods, "核查方式")
	for _, s := range source.Schemes() {
		a := f.Schemes[s.Key]
		oneOf("ins_"+s.Code, a.Insured, YesNo, s.Key+"是否参保")
		if a.Insured == "是" && submit && a.Place == "" {
			set("place_"+s.Code, "已参保的请填写参保地")
		}
	}
	if !slices.ContainsFunc(Outcomes, func(o struct{ Value, Label string }) bool { return o.Value == f.Outcome }) {
		set("outcome", "人员状况须为：在户、已迁出、已死亡")
	}
	surveyed, surveyedOK := date("surveyed_on", f.SurveyedOn, "调查日期")
	outDate, outOK := date("outcome_date", f.OutcomeDate, "迁出或死亡日期")
	if surveyedOK && outOK && outDate.After(surveyed) {
		set("outcome_date", "迁出或死亡日期不能晚于调查日期")
	}
	if f.Reason == "其他" && f.ReasonText == "" && submit {
		set("reason_text", "未参保原因为“其他”时请说明")
	}
	if !submit {
		return errs
	}
	required := []struct{ k, v, label string }{
		{"name", f.Name, "姓名"}, {"id_number", f.IDNumber, "公民身份号码"}, {"sex", f.Sex, "性别"}, {"birth", f.Birth, "出生日期"},
		{"method", f.Method, "核查方式"}, {"surveyor", f.Surveyor, "调查员"}, {"surveyed_on", f.SurveyedOn, "调查日期"},
	}
	if f.Outcome == OutcomePresent {
		required = append(required, struct{ k, v, label string }{"willing", f.Willing, "参保意愿"})
		if f.Willing != "" && f.Willing != "已在外地参保" && !f.anyInsured() {
			required = append(required, struct{ k, v, label string }{"reason", f.Reason, "未参保原因"})
		}
	} else {
		required = append(required, struct{ k, v, label string }{"outcome_date", f.OutcomeDate, "迁出或死亡日期"})
	}
	for _, r := range required {
		if r.v == "" {
			set(r.k, r.label+"为必填项")
		}
	}
	return errs
}

// anyInsured reports whether the form says the person is insured in some
// scheme.
func (f Form) anyInsured() bool {
	for _, a := range f.Schemes {
		if a.Insured == "是" {
			return true
		}
	}
	return false
}
