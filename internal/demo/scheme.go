package demo

import "time"

// Scheme indices into schemes.
const (
	schEnterprise  = iota // 企业职工养老
	schPublic             // 机关事业养老
	schRural              // 城乡居民养老
	schWorkerMed          // 职工医疗
	schResidentMed        // 居民医疗
	schNCMS               // 新农合
)

// Scheme groups of DOMAIN §3.
const (
	groupPension = "pension"
	groupMedical = "medical"
)

// scheme is one row of the scheme table in DOMAIN §3.
type scheme struct {
	key, code, name string
	aliases         []string
	group           string
	start           time.Time // when the scheme began; no enrollment is dated earlier
}

// schemes lists the schemes the generator writes files for.
var schemes = []scheme{
	{"企业职工养老", "110", "企业职工基本养老保险", []string{"职工养老"}, groupPension, ymd(1995, 1, 1)},
	{"机关事业养老", "120", "机关事业单位养老保险", nil, groupPension, ymd(2014, 10, 1)},
	{"城乡居民养老", "170", "城乡居民基本养老保险", []string{"城乡居民社会养老保险", "居民养老", "城乡居保"}, groupPension, ymd(2010, 7, 1)},
	{"职工医疗", "310", "职工基本医疗保险", []string{"城镇职工基本医疗保险"}, groupMedical, ymd(1999, 1, 1)},
	{"居民医疗", "390", "城乡居民基本医疗保险", []string{"城镇居民基本医疗保险", "居民医保"}, groupMedical, ymd(2008, 1, 1)},
	{"新农合", "", "新型农村合作医疗", []string{"新农合"}, groupMedical, ymd(2004, 1, 1)},
}

// 参保状态 and 缴费状态 values of DOMAIN §3, kept as words in the model.
const (
	insNormal    = "正常参保"
	insSuspended = "暂停参保"
	insEnded     = "终止参保"
	payNormal    = "参保缴费"
	paySuspended = "暂停缴费"
	payEnded     = "终止缴费"
	payNone      = "" // retirees drawing a pension: the column is left blank
)

// statusCodes maps status words to the codes some systems export instead.
var statusCodes = map[string]string{
	insNormal: "1", insSuspended: "2", insEnded: "4",
	payNormal: "1", paySuspended: "2", payEnded: "3",
}

// Population states of 户籍人口.
const (
	hukouNormal  = "正常"
	hukouDead    = "死亡"
	hukouRemoved = "注销"
	hukouMoved   = "迁出"
)

// isActive reports whether a record counts as enrolled (DOMAIN §3).
func isActive(ins, pay string) bool { return ins != insEnded && pay != payEnded }

// isInterrupted reports whether an active record is suspended.
func isInterrupted(ins, pay string) bool {
	return isActive(ins, pay) && (ins == insSuspended || pay == paySuspended)
}

// ymd is a short date constructor.
func ymd(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
