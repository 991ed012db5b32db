package report

import "strconv"

// The progress table's columns, as seed 003 prints them (附件1). The seed
// numbers them 1–25 and 27–32 (there is no 26); the numbers are kept, since
// the ministry reads its columns by them. Seed 003 item numbers in the
// comments are its 主要指标解释.
var progressColumns = []Column{
	{No: 1, Group: "发文情况", Label: "是否以省政府名义印发实施方案", Kind: YesNo, Manual: true},
	{No: 2, Group: "发文情况", Label: "是否以部门联合形式印发实施方案", Kind: YesNo, Manual: true},
	{No: 3, Group: "发文情况", Label: "是否以人社厅名义印发实施方案", Kind: YesNo, Manual: true},
	{No: 4, Group: "发文情况", Label: "是否印发实施细则或经办规程", Kind: YesNo, Manual: true},
	{No: 5, Group: "领导重视情况", Label: "是否成立省级领导小组", Kind: YesNo, Manual: true},
	{No: 6, Group: "领导重视情况", Label: "是否成立由人社厅领导任组长的领导小组", Kind: YesNo, Manual: true},
	{No: 7, Group: "领导重视情况", Label: "是否纳入政府考核体系", Kind: YesNo, Manual: true},
	{No: 8, Group: "部门协作情况", Label: "是否建立跨部门协作机制", Kind: YesNo, Manual: true},
	{No: 9, Group: "部门协作情况", Label: "是否与哪些部门实现信息共享", Kind: Text, Manual: true},
	{No: 10, Group: "部门协作情况", Label: "与哪些部门定期交换数据", Kind: Text, Manual: true},
	{No: 11, Group: "经费保障情况", Label: "是否已将工作经费纳入财政预算", Kind: YesNo, Manual: true},
	{No: 12, Group: "经费保障情况", Label: "工作经费投入数额（万元）", Kind: Number, Manual: true, Sum: true},
	{No: 13, Group: "信息比对情况", Label: "社保系统内部登记信息完成率（%）", Kind: Rate, Key: "internal_compare_rate"}, // item 1
	{No: 14, Group: "信息比对情况", Label: "跨部门登记信息完成率（%）", Kind: Rate, Key: "cross_compare_rate"},       // item 2
	{No: 15, Group: "信息比对情况", Label: "跨市登记信息完成率（%）", Kind: Rate},                                   // item 3: no data here
	{No: 16, Group: "信息比对情况", Label: "跨省登记信息完成率（%）", Kind: Rate},                                   // item 4: no data here
	{No: 17, Group: "入户调查情况", Label: "入户率（%）", Kind: Rate, Key: "visit_rate"},                      // item 5
	{No: 18, Group: "入户调查情况", Label: "入户调查完成率（%）", Kind: Rate, Key: "survey_rate"},                 // item 6
	{No: 19, Group: "数据库建设情况", Label: "是否建立省级集中的全民参保登记数据库", Kind: YesNo, Manual: true},
	{No: 20, Group: "数据库建设情况", Label: "是否建立地市级集中的全民参保登记数据库", Kind: YesNo, Manual: true},
	{No: 21, Group: "数据库建设情况", Label: "是否建立信息库", Kind: YesNo, Manual: true},
	{No: 22, Group: "数据库建设情况", Label: "登记信息入库率（%）", Kind: Rate, Key: "registration_rate"}, // item 7
	{No: 23, Group: "动态管理情况", Label: "是否建立数据动态更新机制", Kind: YesNo, Manual: true},
	{No: 24, Group: "动态管理情况", Label: "社保系统内部数据动态更新周期", Kind: Text, Manual: true},
	{No: 25, Group: "动态管理情况", Label: "跨部门数据动态更新周期", Kind: Text, Manual: true},
	{No: 27, Group: "数据分析利用情况", Label: "错误信息更正率（%）", Kind: Rate, Key: "correction_rate"},  // item 8
	{No: 28, Group: "数据分析利用情况", Label: "应保未保人口扩面率（%）", Kind: Rate, Key: "expansion_rate"}, // item 9
	{No: 29, Group: "培训情况", Label: "培训场次", Kind: Number, Manual: true, Sum: true},
	{No: 30, Group: "培训情况", Label: "培训人次", Kind: Number, Manual: true, Sum: true},
	{No: 31, Group: "宣传情况", Label: "全省是否制定统一的宣传计划或方案", Kind: YesNo, Manual: true},
	{No: 32, Group: "宣传情况", Label: "制定了宣传方案的地市个数", Kind: Number, Manual: true, Sum: true},
}

// Basic table 一 (附件2). The seed's header lost cells in print; the layout
// below keeps its 25 columns, its groups and the order of the sub-headers
// that survived, completed from the 主要指标解释 (items 7–12): 养老 7–13,
// 医疗 14–19, then 应参未参 and 制度内跨地区重复参保 for 工伤, 失业 and 生育.
var basic1Columns = []Column{
	{No: 1, Group: "户籍情况", Label: "本省户籍人口数", Key: "b1.1"},
	{No: 2, Group: "登记入库情况", Label: "省内本地参保确认入库人数", Key: "b1.2"},
	{No: 3, Group: "登记入库情况", Label: "#非本省户籍参保人数", Key: "b1.3"},
	{No: 4, Group: "登记入库情况", Label: "省外异地参保确认入库人数", Manual: true, Kind: Number, Sum: true},
	{No: 5, Group: "登记入库情况", Label: "需调查核实人数", Key: "b1.5"},
	{No: 6, Group: "登记入库情况", Label: "#已核实入库人数", Key: "b1.6"},
	{No: 7, Group: "养老保险", Label: "应参未参人数", Key: "b1.7"},
	{No: 8, Group: "养老保险", Label: "跨制度重复参保人数", Key: "b1.8"},
	{No: 9, Group: "养老保险", Label: "#已整合人数", Manual: true, Kind: Number, Sum: true},
	{No: 10, Group: "养老保险", Label: "制度内跨地区重复参保人数", Key: "b1.10"},
	{No: 11, Group: "养老保险", Label: "跨制度重复享受待遇人数", Manual: true, Kind: Number, Sum: true},
	{No: 12, Group: "养老保险", Label: "#已整合人数", Manual: true, Kind: Number, Sum: true},
	{No: 13, Group: "养老保险", Label: "制度内跨地区重复享受待遇人数", Manual: true, Kind: Number, Sum: true},
	{No: 14, Group: "医疗保险", Label: "应参未参人数", Key: "b1.14"},
	{No: 15, Group: "医疗保险", Label: "制度内跨地区重复参保人数", Key: "b1.15"},
	{No: 16, Group: "医疗保险", Label: "跨制度重复参保人数", Key: "b1.16"},
	{No: 17, Group: "医疗保险", Label: "#已整合人数", Manual: true, Kind: Number, Sum: true},
	{No: 18, Group: "医疗保险", Label: "跨制度重复享受待遇人数", Manual: true, Kind: Number, Sum: true},
	{No: 19, Group: "医疗保险", Label: "#已整合人数", Manual: true, Kind: Number, Sum: true},
	{No: 20, Group: "工伤保险", Label: "应参未参人数", Manual: true, Kind: Number, Sum: true},
	{No: 21, Group: "工伤保险", Label: "制度内跨地区重复参保人数", Key: "b1.21"},
	{No: 22, Group: "失业保险", Label: "应参未参人数", Manual: true, Kind: Number, Sum: true},
	{No: 23, Group: "失业保险", Label: "制度内跨地区重复参保人数", Key: "b1.23"},
	{No: 24, Group: "生育保险", Label: "应参未参人数", Manual: true, Kind: Number, Sum: true},
	{No: 25, Group: "生育保险", Label: "制度内跨地区重复参保人数", Key: "b1.25"},
}

// Basic table 二 (附件2): persons by the combination of schemes they hold
// and, for the not insured, by the reason the approved survey form gives.
// The seed prints column 5 with the same name as column 4 (只参加养老); it
// is counted here as 只参加养老、工伤保险, the one pair of the first
// columns' pattern the seed does not otherwise name. Column 26 (其他原因,
// item 7 of its 指标解释) lost its header in print.
var basic2Columns = []Column{
	{No: 1, Top: "五项社会保险参保情况", Group: "职工", Label: "五险参保人数", Key: "b2.1"},
	{No: 2, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加养老、医疗、工伤保险人数", Key: "b2.2"},
	{No: 3, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加养老、医疗保险人数", Key: "b2.3"},
	{No: 4, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加养老保险人数", Key: "b2.4"},
	{No: 5, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加养老、工伤保险人数", Key: "b2.5"},
	{No: 6, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加医疗保险人数", Key: "b2.6"},
	{No: 7, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加工伤保险人数", Key: "b2.7"},
	{No: 8, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加失业保险人数", Key: "b2.8"},
	{No: 9, Top: "五项社会保险参保情况", Group: "职工", Label: "只参加生育保险人数", Key: "b2.9"},
	{No: 10, Top: "五项社会保险参保情况", Group: "职工", Label: "其他情况人数", Key: "b2.10"},
	{No: 11, Top: "五项社会保险参保情况", Group: "居民", Label: "参加居民养老、居民医疗保险人数", Key: "b2.11"},
	{No: 12, Top: "五项社会保险参保情况", Group: "居民", Label: "只参加居民养老保险人数", Key: "b2.12"},
	{No: 13, Top: "五项社会保险参保情况", Group: "居民", Label: "只参加居民医疗保险人数", Key: "b2.13"},
	{No: 14, Top: "五项社会保险参保情况", Group: "居民", Label: "参加新农合人数", Key: "b2.14"},
	{No: 15, Top: "五项社会保险参保情况", Group: "居民", Label: "其他情况人数", Key: "b2.15"},
}

func init() {
	for i, r := range Reasons {
		basic2Columns = append(basic2Columns, Column{No: 16 + i, Top: "未参保情况", Label: r + "人数", Key: "b2." + strconv.Itoa(16+i)})
	}
	for _, cols := range [][]Column{progressColumns, basic1Columns} {
		for i := range cols {
			if cols[i].Manual {
				cols[i].Key = manualPrefix(cols) + strconv.Itoa(cols[i].No)
			}
		}
	}
}

// Reasons are the 未参保原因 of the survey form (DOMAIN §6), in the order of
// table 二's columns 16–26; a reason given as "其他…" counts as 其他.
var Reasons = []string{"个人未参保", "缴费中断", "单位未予参保", "全日制在校生", "参军", "部队建账的随军家属", "出国", "判刑", "人户分离", "户口待注销", "其他原因"}

func manualPrefix(cols []Column) string {
	if &cols[0] == &progressColumns[0] {
		return "p."
	}
	return "b1."
}

// ColumnsOf returns a table's columns by its key.
func ColumnsOf(table string) []Column {
	switch table {
	case "progress":
		return progressColumns
	case "basic1":
		return basic1Columns
	case "basic2":
		return basic2Columns
	}
	return nil
}

// Manual lists the columns of a table entered by hand.
func Manual(table string) []Column {
	var out []Column
	for _, c := range ColumnsOf(table) {
		if c.Manual {
			out = append(out, c)
		}
	}
	return out
}

// column finds a column of any table by its key.
func column(key string) (Column, bool) {
	for _, t := range []string{"progress", "basic1", "basic2"} {
		for _, c := range ColumnsOf(t) {
			if c.Key == key {
				return c, true
			}
		}
	}
	return Column{}, false
}
