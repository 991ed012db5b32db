// Package source knows the kinds of department extracts the registry imports:
// which columns each kind has, how to find the header row in a dirty sheet,
// and how to parse the values (dates, schemes, statuses, codes) cheaply.
//
// The rules it implements (cited elsewhere as "DOMAIN §3" and "§4"):
//
// Insurance schemes (险种, AAE140 codes), each in a group: pension —
// 企业职工养老 110, 机关事业养老 120, 城乡居民养老 170; medical — 职工医疗
// 310, 居民医疗 390, 新农合 (no code); other — 失业 210, 工伤 410, 生育 510.
// A file may give a scheme's code, its name or a common alias (ParseScheme).
// 参保状态 is 正常参保 (1), 暂停参保 (2) or 终止参保 (4); 缴费状态 is 参保缴费
// (1), 暂停缴费 (2) or 终止缴费 (3). A record is active unless either says
// 终止; an active record is interrupted when either says 暂停 (EnrollState).
//
// Extract kinds (Kind) and their columns, with the header aliases accepted;
// unknown columns are kept in the record's raw cells but not interpreted:
//
//   - 户籍人口 (police): ID, name, sex, ethnicity, birth date, household
//     number, relation to the head, address, hukou region code, population
//     status (正常 or 管理中, 死亡, 注销, 迁出).
//   - 居住人口 (residents without local hukou): ID, name, sex, birth date,
//     address, residence region code, hukou region code.
//   - 参保信息 (each scheme's system; 新农合 from health): ID, name, scheme,
//     insured region code (参保地), enrollment and payment status,
//     enrollment date, employer.
//   - 死亡信息 (civil affairs, funeral homes): ID, name, date of death.
//   - 在校学生 (education): ID, name, school.
//
// Each extract is a snapshot: a newer one of the same kind and region
// replaces the older. Dates come as 2017-06-30, 2017/6/30, 20170630 or an
// Excel serial number; text files as UTF-8 (with or without BOM) or
// GB18030; title rows may stand above the header row.
package source
