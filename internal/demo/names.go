package demo

import (
	"math/rand/v2"
	"strings"
)

// surnames are weighted roughly like the registers of western Guangdong,
// so that common surnames collide as often as they do in real extracts.
var surnames = []struct {
	s string
	w int
}{
	{"陈", 120}, {"李", 80}, {"黄", 80}, {"张", 60}, {"梁", 60}, {"林", 50}, {"王", 40},
	{"刘", 40}, {"吴", 30}, {"杨", 30}, {"何", 30}, {"罗", 30}, {"郑", 20}, {"周", 20},
	{"谢", 20}, {"邓", 20}, {"冯", 20}, {"曾", 20}, {"朱", 20}, {"钟", 20}, {"潘", 20},
	{"莫", 20}, {"谭", 15}, {"赵", 10}, {"彭", 10}, {"许", 10}, {"叶", 10}, {"苏", 10},
	{"蔡", 10}, {"卢", 10}, {"徐", 10}, {"胡", 10}, {"邱", 10}, {"肖", 10}, {"庞", 10},
	{"杜", 8}, {"袁", 8}, {"余", 8}, {"邹", 8}, {"温", 8}, {"赖", 8}, {"柯", 6},
	{"车", 6}, {"麦", 6}, {"甘", 6}, {"章", 4}, {"柳", 4}, {"伍", 6}, {"萧", 3},
	{"戴", 5}, {"龙", 5}, {"丁", 5}, {"欧阳", 4}, {"司徒", 2},
}

// surnameTotal is the sum of the surname weights.
var surnameTotal = func() int {
	t := 0
	for _, s := range surnames {
		t += s.w
	}
	return t
}()

// Given-name characters by sex. They include both sides of most typo pairs
// so that a typo often yields a name that also exists elsewhere, as in life.
var (
	maleChars = []rune("伟玮强军君勇永杰涛滔明鸣斌彬辉晖刚钢峰锋建健国志智文华东冬德得亮成诚金锦荣" +
		"新林清青海波宇浩俊鹏飞超磊龙坚生权光福财耀基振嘉宏红家平贵桂云春晓小正中德兴祥")
	femaleChars = []rune("丽莉芳方娟鹃敏民静靖燕艳玲铃红宏霞侠英瑛梅玫兰岚秀绣桂珍贞凤风云芸玉钰" +
		"琴芹彩采妹美婷亭慧惠萍平洁雯文琳林蓉荣欣新华化春月金婵娇颖倩晓嘉雪丹妮君清青")
)

// typoPairs are homophones and look-alike characters that clerks confuse
// when they type names; each pair is used in both directions.
var typoPairs = []string{
	"丽莉", "伟玮", "华化", "明鸣", "芳方", "军君", "玲铃", "红宏", "静靖", "刚钢",
	"梅玫", "英瑛", "敏民", "杰洁", "燕艳", "霞侠", "娟鹃", "勇永", "峰锋", "涛滔",
	"斌彬", "辉晖", "平萍", "建健", "文雯", "珍贞", "凤风", "兰岚", "秀绣", "桂贵",
	"志智", "新欣", "林琳", "云芸", "玉钰", "成诚", "金锦", "荣蓉", "清青", "东冬",
	"德得", "慧惠", "琴芹", "彩采", "妹美", "婷亭", "晓小",
	// Surnames that sound alike in Cantonese or Mandarin.
	"张章", "刘柳", "吴伍", "黄王", "徐许", "肖萧",
}

// polyOf maps a given-name character to one that a clerk may write for
// it because one of the latter's rarer readings is the former's: 靓 reads
// jìng but also liàng (亮). Compare counts them Similar (issue 9.3).
var polyOf = map[rune]rune{
	'亮': '靓', '基': '奇', '波': '柏', '宇': '蔚', '生': '晟', '秀': '宿', '平': '便', '强': '江',
}

// namePolyphone replaces one given-name character of name by its polyOf
// partner; ok is false when the name has none.
func namePolyphone(name string, r *rand.Rand) (string, bool) {
	rs := []rune(name)
	var at []int
	for i, c := range rs {
		if _, ok := polyOf[c]; ok && i > 0 {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return name, false
	}
	i := at[r.IntN(len(at))]
	rs[i] = polyOf[rs[i]]
	return string(rs), true
}

// typoOf maps a character to the character it is confused with.
var typoOf = func() map[rune]rune {
	m := make(map[rune]rune)
	for _, p := range typoPairs {
		rs := []rune(p)
		m[rs[0]], m[rs[1]] = rs[1], rs[0]
	}
	return m
}()

// nations holds minorities found in Guangdong; Han dominates.
var nations = []string{"壮族", "瑶族", "苗族", "土家族", "回族", "满族", "畲族", "侗族"}

// randomSurname draws a surname by weight.
func randomSurname(r *rand.Rand) string {
	n := r.IntN(surnameTotal)
	for _, s := range surnames {
		if n < s.w {
			return s.s
		}
		n -= s.w
	}
	return surnames[0].s
}

// randomGiven draws a one- or two-character given name.
func randomGiven(r *rand.Rand, male bool) string {
	chars := femaleChars
	if male {
		chars = maleChars
	}
	n := 2
	if r.IntN(4) == 0 {
		n = 1
	}
	var b strings.Builder
	for range n {
		b.WriteRune(chars[r.IntN(len(chars))])
	}
	return b.String()
}

// randomNation returns 汉族 for about 97% of people.
func randomNation(r *rand.Rand) string {
	if r.IntN(100) < 97 {
		return "汉族"
	}
	return nations[r.IntN(len(nations))]
}

// nameTypo replaces one confusable character of name; ok is false when
// the name has none.
func nameTypo(name string, r *rand.Rand) (string, bool) {
	rs := []rune(name)
	var at []int
	for i, c := range rs {
		if _, ok := typoOf[c]; ok {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return name, false
	}
	i := at[r.IntN(len(at))]
	rs[i] = typoOf[rs[i]]
	return string(rs), true
}

// Word lists for the names of employers and schools.
var (
	firmWords = []string{"荔丰", "金山", "宏达", "鉴江", "粤西", "南方", "鸿运", "华城", "恒通", "兴业",
		"长坡", "东岸", "新塘", "联合", "利民", "顺发", "永盛", "嘉禾", "信达", "佳美", "绿源", "大众"}
	firmTrades = []string{"食品", "电子", "建材", "服装", "水泥", "贸易", "物流", "农业发展", "机械",
		"制衣", "陶瓷", "家具", "水果", "医药", "运输", "房地产开发", "建筑工程", "饲料"}
	firmForms  = []string{"有限公司", "实业有限公司", "有限责任公司", "厂", "股份有限公司"}
	agencyTail = []string{"人民医院", "中医院", "妇幼保健院", "第一中学", "第二中学", "教育局", "财政局",
		"人力资源和社会保障局", "公安局", "农业局", "卫生和计划生育局", "民政局", "国土资源局", "住房和城乡建设局",
		"水务局", "林业局", "人民法院", "人民检察院", "城市管理局", "统计局"}
	schools  = []string{"第一中学", "第二中学", "第三中学", "第四中学", "职业技术学校", "实验中学"}
	colleges = []string{"广东石油化工学院", "茂名职业技术学院", "广东医科大学", "华南师范大学", "广州大学",
		"岭南师范学院", "广东海洋大学", "华南农业大学", "广东工业大学", "暨南大学"}
)
