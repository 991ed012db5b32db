// Package report builds the ministry's tables of seed 003 (DOMAIN §8) for a
// region: 全民参保登记工作进度表 (progress: computed rates and organisational
// items staff enter per region and period), 全民参保登记基础数据情况表(一)
// and (二) (basic data: counts from a comparison run and the survey, with
// the seed's logic checks), and the numbered 工作通报 (bulletins) that
// freeze a day's numbers. Every table has one row per child region and a
// 合计 row for the region itself; every count is the length of a list
// (Persons) built from the same predicate, so a figure equals its list and
// the rows a county sees add up to its row in the city's table.
//
// The seed's tables are for provinces. At city and county level "本省"
// reads as the report's region; each table says so in its note.
package report
