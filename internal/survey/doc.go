// Package survey holds the household survey (入户调查, DOMAIN §6): rounds
// published from a comparison run, the households and members to visit,
// the township's teams, the printed forms, the entered forms and their
// review, progress and archive.
//
// The model (tables of migration 000009):
//
//   - A round (survey_round) is published for a region, usually a county,
//     from a finished comparison run that covers it. Its targets are the
//     run's survey targets in the region (run_persons(run).survey).
//   - Targets are visited by household (户不漏人). A target with a 户号 and
//     a household region inside the round's region brings its whole
//     household: every member the registry (person) lists under the same
//     户号 and household region, with the run's statuses and flags for each;
//     members who left the register (死亡, 注销, 迁出) are not listed unless
//     they are targets themselves. Any other target (a resident without
//     户号) is a household of one (survey_household.household = ”).
//   - A household is placed in its village: the household region of a 户号,
//     else the region the run placed the person in (12 digits where known).
//     Rounds count households, persons (members listed) and targets per
//     county, township and village from survey_household, so each number
//     is the length of the list behind it.
//   - Each household has a task code (TaskCode): six characters from an
//     alphabet without look-alikes and a check character, printed with a QR
//     code of it and typed back in to find the task.
//   - A top-up merges a later run into the round: new targets and their
//     households are added, members no longer targets keep their row with
//     target = false and dropped_run set, members targets again lose
//     dropped_run, and no survey_form row is touched. A household whose
//     targets all dropped stays listed with targets = 0.
//   - Teams (survey_team, 调查组) belong to a township and outlive rounds.
//     A village assigned whole (survey_team_village) sends its households,
//     including those a later top-up adds, to one team; single households
//     can be moved to another team of their township.
//   - A team member may be bound to a user account of the township
//     (survey_team_user, migration 000018). With 只看本组任务 (team_only)
//     the account sees only the households assigned to its active teams:
//     inTeamView is that rule in SQL, ANDed with actor.InScope wherever
//     households, members or forms are read for a clerk; such a member
//     manages no teams and assigns nothing.
//   - Visited, confirmed and corrected are counted from the member's live
//     form as migration 000009 defines; a household counts as visited when
//     any of its members is.
//
// Publishing, top-ups, team changes, assignments, printing (a full-record
// read: the paper form carries the whole ID) and archiving are audited.
package survey
