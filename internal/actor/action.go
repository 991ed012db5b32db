package actor

// Action is a named thing a user may do; the table below says which roles
// may do it. Where they may do it is always their own region.
type Action string

// The actions. Reads of region data that every role may do have an action
// too, so a route's check is visible in one place.
const (
	RegionRead     Action = "region.read"     // the region tree and the home page
	ImportRead     Action = "import.read"     // batches, their issues, records and error reports
	Import         Action = "import"          // upload and import an extract
	BatchWithdraw  Action = "batch.withdraw"  // take a batch out of comparison
	CompareRead    Action = "compare.read"    // runs, summaries, lists, differences, review queue
	Compare        Action = "compare"         // start a comparison
	Review         Action = "review"          // decide a record in review
	Export         Action = "export"          // download personal data in full: a run's results, an import's error report
	PersonRead     Action = "person.read"     // a person's full record (audited)
	SurveyPublish  Action = "survey.publish"  // publish a survey round from a comparison run, top it up
	SurveyAssign   Action = "survey.assign"   // survey teams, assigning households to them, printing forms, archiving
	SurveyEnter    Action = "survey.enter"    // type in a survey form
	SurveyApprove  Action = "survey.approve"  // approve or return a survey form
	RegistryChange Action = "registry.change" // register a change to a person by hand
	ReportRead     Action = "report.read"     // dashboards and reports
	ReportEdit     Action = "report.edit"     // the hand-entered items of the progress table
	UsersManage    Action = "users.manage"    // create, disable, enable accounts, reset passwords
	AuditRead      Action = "audit.read"      // the audit log
	JobRead        Action = "job.read"        // jobs of the region and their progress (cancel: the starter or an administrator)
)

// everyone is every role, for reads.
var everyone = []Role{Admin, City, County, Township, Leader}

// staff are the roles that run the programme above the township.
var staff = []Role{Admin, City, County}

// permissions is the one table of which role may do which action. Leaders
// only read; township clerks read and type in survey forms; withdrawing a
// batch stays with the administrator, as before.
var permissions = map[Action][]Role{
	RegionRead:     everyone,
	ImportRead:     everyone,
	Import:         staff,
	BatchWithdraw:  {Admin},
	CompareRead:    everyone,
	Compare:        staff,
	Review:         staff,
	Export:         {Admin, City, County, Township}, // leaders read aggregates, not personal data
	PersonRead:     {Admin, City, County, Township}, // a full record is personal data: leaders read aggregates
	SurveyPublish:  staff,
	SurveyAssign:   {Admin, City, County, Township}, // township clerks run their teams
	SurveyEnter:    {Admin, County, Township},
	SurveyApprove:  staff,
	RegistryChange: staff,
	ReportRead:     everyone,
	ReportEdit:     staff,
	UsersManage:    {Admin},
	AuditRead:      {Admin},
	JobRead:        everyone,
}

// Actions lists every action, in the order above.
var Actions = []Action{RegionRead, ImportRead, Import, BatchWithdraw, CompareRead, Compare, Review, Export, PersonRead,
	SurveyPublish, SurveyAssign, SurveyEnter, SurveyApprove, RegistryChange, ReportRead, ReportEdit, UsersManage, AuditRead, JobRead}

// Allowed reports whether role r may do action a; an unknown action is
// allowed to nobody.
func Allowed(r Role, a Action) bool {
	for _, x := range permissions[a] {
		if x == r {
			return true
		}
	}
	return false
}
