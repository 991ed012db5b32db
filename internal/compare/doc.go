// Package compare runs 数据比对: it links every imported record to a person,
// classifies every person of a region at an as-of date, and keeps the
// registry of persons current.
//
// The rules it implements (cited elsewhere as "DOMAIN §5"):
//
// Linking. A record whose normalized valid ID equals a person's ID links to
// that person. Otherwise (a damaged ID, or a name that disagrees with the
// person's) the candidates are persons sharing most of the ID, or the name
// and birth date; a record links when exactly one candidate is clearly
// right, near ties go to a reviewer (whose decision is kept across runs),
// and the rest stay unmatched and are listed. Chinese name errors are
// mostly homophones and look-alike characters (see package names). A
// person's identity comes from 户籍人口 first, then 居住人口, then the rest.
//
// The universe (登记对象) is every living person who is in 户籍人口 with
// status 正常/管理中 and a hukou region inside the run's region, or in
// 居住人口 in the region, or holds an active enrollment whose 参保地 is in
// the region. A person with a death record dated on or before the as-of
// date is not living.
//
// Status, for each person in the universe (Classify):
//   - 养老: 已参保 if some active pension record is not interrupted; 缴费中断
//     if every active pension record is interrupted; otherwise 应参未参 when
//     aged 16 or more on the as-of date and not a student; else 不适用.
//   - 医疗: 已参保 if any active medical record, else 应参未参.
//
// Persons outside the universe get 不适用 for both.
//
// Flags (问题标记), for every known person, any number of them (Flag):
// 跨制度重复参保-养老 and -医疗 (active records in two or more schemes of the
// group); 制度内跨地区重复参保 (active records of one scheme in two or more
// counties); 死亡仍参保 (a death record and still an active record); 户口待注销
// (a death record while 户籍人口 still says 正常/管理中); 信息有误 (a linked
// record's ID was damaged or blank, or its name disagrees with the person's;
// normalizing an ID is not an error); 非本地户籍参保 (an active enrollment in
// the region and no living local hukou, resident or not).
//
// Survey (入户调查): a person in the universe with local hukou or residence
// whose pension or medical status is 应参未参, or who is flagged 信息有误; a
// hukou person is visited with their whole household. A person whose live
// survey form is approved (已入库) is not a target again: the visit's result
// is in the registry (issue 11).
//
// The export has one row per known person: 公民身份号码, 姓名, 登记对象 (是/否),
// 养老参保状态, 医疗参保状态, 问题标记 (joined by 、), 入户调查 (是/否), 来源记录
// (each linked record as file:row, joined by ;, the spreadsheet's own row
// number).
package compare
