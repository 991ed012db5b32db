package source

import (
	"slices"
	"strings"
)

// Kind is the kind of a source extract; its value is the Chinese name users see.
type Kind string

// The five source kinds.
const (
	Hukou      Kind = "户籍人口" // police household register
	Resident   Kind = "居住人口" // residents without local hukou
	Enrollment Kind = "参保信息" // each scheme's enrollment system
	Death      Kind = "死亡信息" // civil affairs death records
	Student    Kind = "在校学生" // education bureau school rolls
)

// Field keys: stable ASCII names used in code and in the database.
const (
	KeyID            = "id"             // 公民身份号码
	KeyName          = "name"           // 姓名
	KeySex           = "sex"            // 性别
	KeyEthnic        = "ethnic"         // 民族
	KeyBirth         = "birth"          // 出生日期
	KeyHousehold     = "household"      // 户号
	KeyRelation      = "relation"       // 与户主关系
	KeyAddress       = "address"        // 户籍地址
	KeyHukouRegion   = "hukou_region"   // 户籍地区划代码
	KeyPopStatus     = "pop_status"     // 人口状态
	KeyResAddress    = "res_address"    // 居住地址
	KeyResRegion     = "res_region"     // 居住地区划代码
	KeyScheme        = "scheme"         // 险种类型
	KeyInsuredRegion = "insured_region" // 参保地区划代码
	KeyEnrollStatus  = "enroll_status"  // 参保状态
	KeyPayStatus     = "pay_status"     // 缴费状态
	KeyEnrollDate    = "enroll_date"    // 参保日期
	KeyEmployer      = "employer"       // 单位名称
	KeyDeathDate     = "death_date"     // 死亡日期
	KeySchool        = "school"         // 学校名称
)

// Field is a column a kind knows. A header must map id or name plus at least
// one other field of the kind, and every Required field.
type Field struct {
	Key      string   // stable ASCII key, e.g. "birth"
	Name     string   // canonical Chinese column name, e.g. "出生日期"
	Aliases  []string // other header texts accepted (matched after normalisation)
	Required bool     // the header is refused without it
}

// Shared fields: the same column means the same thing in every kind.
var (
	fID = Field{Key: KeyID, Name: "公民身份号码", Aliases: []string{
		"身份证号", "身份证号码", "证件号码", "证件号", "身份证", "公民身份证号码", "公民身份证号",
		"公民身份号", "身份号码", "社会保障号码", "社会保障号", "社会保障卡号码", "个人身份证号码"}}
	fName = Field{Key: KeyName, Name: "姓名", Aliases: []string{
		"人员姓名", "参保人姓名", "参保人", "学生姓名", "死者姓名", "逝者姓名", "户籍人姓名"}}
	fSex   = Field{Key: KeySex, Name: "性别", Aliases: []string{"性别代码", "性别名称"}}
	fBirth = Field{Key: KeyBirth, Name: "出生日期", Aliases: []string{
		"出生年月日", "出生时间", "出生年月", "生日"}}
	fHukouRegion = Field{Key: KeyHukouRegion, Name: "户籍地区划代码", Aliases: []string{
		"户籍区划", "户籍区划代码", "户籍地区划", "户籍地行政区划代码", "户籍行政区划代码",
		"户籍行政区划", "户籍所在地区划代码", "户口所在地区划代码"}}
)

// fields lists each kind's columns in display order.
var fields = map[Kind][]Field{
	Hukou: {fID, fName, fSex,
		{Key: KeyEthnic, Name: "民族", Aliases: []string{"民族代码", "民族名称"}},
		fBirth,
		{Key: KeyHousehold, Name: "户号", Aliases: []string{"户编号", "户籍户号"}},
		{Key: KeyRelation, Name: "与户主关系", Aliases: []string{"与户主关系代码", "家庭关系", "户主关系"}},
		{Key: KeyAddress, Name: "户籍地址", Aliases: []string{
			"户籍地详址", "户籍详址", "户籍所在地址", "户籍地住址", "户籍住址", "住址", "户口地址", "户籍地地址"}},
		fHukouRegion,
		{Key: KeyPopStatus, Name: "人口状态", Aliases: []string{"人员状态", "户籍状态", "人口状态代码", "状态"}},
	},
	Resident: {fID, fName, fSex, fBirth,
		{Key: KeyResAddress, Name: "居住地址", Aliases: []string{
			"现居住地址", "居住地详址", "居住详址", "现住址", "居住地住址", "实际居住地址", "居住地地址"}},
		{Key: KeyResRegion, Name: "居住地区划代码", Aliases: []string{
			"居住区划", "居住区划代码", "居住地区划", "居住地行政区划代码", "居住行政区划代码", "现居住地区划代码"}},
		fHukouRegion,
	},
	Enrollment: {fID, fName,
		{Key: KeyScheme, Name: "险种类型", Required: true, Aliases: []string{
			"险种", "险种名称", "险种代码", "参保险种", "险种类别"}},
		{Key: KeyInsuredRegion, Name: "参保地区划代码", Aliases: []string{
			"参保地", "参保地区", "参保区划", "参保区划代码", "参保地区划", "参保地行政区划代码", "参保所属地区划代码"}},
		{Key: KeyEnrollStatus, Name: "参保状态", Aliases: []string{"人员参保状态", "参保状态代码"}},
		{Key: KeyPayStatus, Name: "缴费状态", Aliases: []string{"人员缴费状态", "个人缴费状态", "缴费状态代码"}},
		{Key: KeyEnrollDate, Name: "参保日期", Aliases: []string{"参保时间", "参保开始日期", "开始参保日期"}},
		{Key: KeyEmployer, Name: "单位名称", Aliases: []string{"单位", "工作单位", "参保单位", "参保单位名称", "所在单位"}},
	},
	Death: {fID, fName,
		{Key: KeyDeathDate, Name: "死亡日期", Required: true, Aliases: []string{"死亡时间", "死亡年月日"}},
	},
	Student: {fID, fName,
		{Key: KeySchool, Name: "学校名称", Aliases: []string{"学校", "就读学校", "所在学校", "学校全称"}},
	},
}

// kinds is the display order of the kinds.
var kinds = []Kind{Hukou, Resident, Enrollment, Death, Student}

// Kinds returns the source kinds in display order.
func Kinds() []Kind { return slices.Clone(kinds) }

// kindNames maps accepted spellings (short Chinese and ASCII) to kinds.
var kindNames = map[string]Kind{
	"户籍人口": Hukou, "户籍": Hukou, "hukou": Hukou,
	"居住人口": Resident, "居住": Resident, "resident": Resident,
	"参保信息": Enrollment, "参保": Enrollment, "enrollment": Enrollment,
	"死亡信息": Death, "死亡": Death, "death": Death,
	"在校学生": Student, "学生": Student, "student": Student,
}

// ParseKind accepts a kind's name, its short form (户籍) or its ASCII name (hukou).
func ParseKind(s string) (Kind, bool) {
	k, ok := kindNames[strings.TrimSpace(s)]
	return k, ok
}

// Fields returns the columns of kind k (nil for an unknown kind); the slice is
// a copy, so callers may change it.
func Fields(k Kind) []Field { return slices.Clone(fields[k]) }
