// Package server is the HTTP layer: chi routes, middleware and thin
// handlers that parse a request, call a domain package and render a page.
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/dynamic"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// Config is what the HTTP layer needs from the environment.
type Config struct {
	// SecureCookies marks cookies Secure; on when served behind TLS.
	SecureCookies bool
	// TrustProxy takes the client address from the header the reverse
	// proxy sets (ProxyHeader); only behind a proxy.
	TrustProxy bool
	// ProxyHeader is the one header the proxy writes the client address
	// into: "X-Forwarded-For" (default; read from the right) or
	// "X-Real-IP". The other is ignored, since a proxy passes through
	// whatever of it the client sent.
	ProxyHeader string
	// ProxyNets, when set, are the only peers trusted as proxies; addresses
	// in them are skipped when X-Forwarded-For is read from the right.
	ProxyNets []netip.Prefix
	// LoginBurst and LoginInterval throttle logins per client address:
	// LoginBurst attempts at once, then one per LoginInterval (defaults
	// 20 and 3 s).
	LoginBurst    int
	LoginInterval time.Duration
	// MaxUpload bounds an uploaded file, in bytes.
	MaxUpload int64
	// TempDir receives uploads while they are imported.
	TempDir string
	// Jobs is how many jobs (imports, comparisons) run at once; 0 means 2.
	Jobs int
	// Nightly, when on, re-compares every county with runs each night.
	Nightly Nightly
	// SnapshotOn starts the daily indicator snapshot at SnapshotHour:
	// SnapshotMinute local time (CANBAO_SNAPSHOT_AT, see ParseSnapshotAt).
	SnapshotOn                   bool
	SnapshotHour, SnapshotMinute int
}

// Server serves canbao's pages.
type Server struct {
	cfg Config
	db  *pgxpool.Pool
	log *slog.Logger
	// summaries caches finished runs' summary tables per region.
	summaries *summaryCache
	// homes caches the home page's numbers per finished run and region.
	homes   *summaryCache
	users   *auth.Store
	regions *region.Store
	imports *imports.Importer
	uploads *uploads
	compare *compare.Engine
	jobs    *job.Runner
	// registry reads persons and their timelines.
	registry *registry.Store
	// survey holds the household survey's rounds, teams and forms.
	survey *survey.Store
	// forms keeps the survey forms: entry, review, progress.
	forms *survey.Forms
	// indicators reads the progress indicators' snapshots and lists.
	indicators *indicator.Store
	// dashViews and notInsuredViews keep dashboard parts per region and snapshot.
	dashViews       *viewCache[web.DashboardView]
	notInsuredViews *viewCache[web.NotInsuredView]
	// logins throttles login attempts per client address.
	logins *throttle
	// keys make the opaque person keys of URLs.
	keys *personKeys
	// csrfKey signs the CSRF tokens of sessions.
	csrfKey []byte
	router  chi.Router

	// regionsCache keeps the regions pages look up on every request.
	regionsCache *regionCache

	prep        prepJobs      // report preparation jobs started by this process
	reportStore *report.Store // keeps prepared runs' counts and snapshots' lines
}

// New builds the server and its routes, and starts its job runner (which
// first records as interrupted the jobs a stopped process left running).
// Close stops the runner.
func New(cfg Config, db *pgxpool.Pool, log *slog.Logger) *Server {
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 2
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 20
	}
	if cfg.LoginInterval <= 0 {
		cfg.LoginInterval = 3 * time.Second
	}
	s := &Server{cfg: cfg, db: db, log: log, users: auth.NewStore(db), regions: region.NewStore(db), logins: newThrottle(cfg.LoginBurst, cfg.LoginInterval),
		imports: imports.New(db).Then(dynamic.New(db).AfterImport), uploads: newUploads(), compare: compare.New(db), registry: registry.NewStore(db), survey: survey.New(db),
		jobs: job.NewRunner(db, log, cfg.Jobs), summaries: newSummaryCache(256), homes: newSummaryCache(1024)}
	s.forms = survey.NewForms(db)
	s.indicators = indicator.NewStore(db)
	s.dashViews, s.notInsuredViews = newViewCache[web.DashboardView](1024), newViewCache[web.NotInsuredView](1024)
	s.regionsCache = newRegionCache(30*time.Second, 20_000)
	s.reportStore = report.NewCachedStore(db)
	s.keys = newPersonKeys(loadSecret(db, log, "person_key"))
	s.csrfKey = loadSecret(db, log, "csrf")
	if err := s.jobs.Start(context.Background()); err != nil {
		log.Error("start job runner", "err", err)
	}
	s.router = s.routes()
	return s
}

// Close cancels the running jobs, recording them as interrupted, and waits
// for them to end.
func (s *Server) Close() { s.jobs.Stop() }

// Routes exposes the router, so a test can walk every route.
func (s *Server) Routes() chi.Routes { return s.router }

// Users exposes the account store (session limits are set on it by tests).
func (s *Server) Users() *auth.Store { return s.users }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.clientAddr, middleware.Recoverer, s.logRequests, securityHeaders)
	// Summary and list pages run to 80 KB of repetitive HTML; gzip at a low
	// level shrinks them several times for little CPU.
	r.Use(middleware.Compress(1, "text/html", "text/css", "text/javascript", "application/javascript"))
	static, _ := fs.Sub(web.Static, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	r.Get("/healthz", s.handleHealth)

	r.Group(func(r chi.Router) {
		r.Use(s.loadSession, s.csrf)
		r.Get("/login", s.handleLoginForm)
		r.Post("/login", s.handleLogin)
		r.Group(func(r chi.Router) {
			r.Use(s.requireLogin)
			r.Post("/logout", s.handleLogout)
			s.routesRegions(r)
			s.routesImports(r)
			s.routesCompare(r)
			s.routesReview(r)
			s.routesPersons(r)
			s.routesJobs(r)
			// survey rounds, teams, printing, archive
			s.routesSurveyRounds(r)
			// team: binding a team member to an account, 只看本组任务 (issue 11)
			r.With(s.allow(actor.SurveyAssign)).Post("/survey/teams/{team:[0-9]+}/accounts", s.handleTeamAccount)
			s.routesUsers(r)
			s.routesAudit(r)
			// reports: the ministry's tables and the bulletins
			s.routesReports(r)

			// survey forms: entry, review, progress (issue 11, survey2)
			r.With(s.allow(actor.SurveyEnter)).Get("/survey/entry", s.handleFormTasks)
			r.With(s.allow(actor.SurveyEnter)).Get("/survey/entry/households/{id}", s.handleFormHousehold)
			r.With(s.allow(actor.SurveyEnter)).Post("/survey/entry/households/{id}/members", s.handleFormFound)
			r.With(s.allow(actor.SurveyEnter)).Get("/survey/entry/members/{id}", s.handleFormEntry)
			r.With(s.allow(actor.SurveyEnter)).Post("/survey/entry/members/{id}", s.handleFormSave)
			r.With(s.allow(actor.SurveyEnter)).Post("/survey/entry/forms/{id}/revise", s.handleFormRevise)
			r.With(s.allow(actor.SurveyApprove)).Get("/survey/review", s.handleFormQueue)
			r.With(s.allow(actor.PersonRead)).Get("/survey/forms/{id}", s.handleFormView)
			r.With(s.allow(actor.SurveyApprove)).Post("/survey/forms/{id}/approve", s.handleFormApprove)
			r.With(s.allow(actor.SurveyApprove)).Post("/survey/forms/{id}/return", s.handleFormReturn)
			r.With(s.allow(actor.ReportRead)).Get("/survey/progress", s.handleFormProgress)
			r.With(s.allow(actor.ReportRead)).Get("/survey/progress/list", s.handleFormProgressList)
			r.With(s.allow(actor.ReportRead)).Get("/survey/willing", s.handleFormWilling)
			r.With(s.allow(actor.Export)).Get("/survey/export/approved.xlsx", s.handleFormExport("approved"))
			r.With(s.allow(actor.Export)).Get("/survey/export/willing.xlsx", s.handleFormExport("willing"))
			r.With(s.allow(actor.Export)).Get("/survey/export/reasons.xlsx", s.handleFormExport("reasons"))
			// dynamic management (动态管理): events between extracts, manual changes
			s.routesDynamic(r)
			// as of a past day (issue 13)
			s.routesAsOf(r)
			// report
			s.routesReport(r)
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.renderStatus(w, r, http.StatusNotFound, "页面不存在")
	})
	return r
}

// Run serves on addr until ctx ends, then shuts down gracefully and stops
// the job runner.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	// After the last request: jobs are cancelled and recorded as interrupted.
	defer s.Close()
	go s.housekeeping(ctx)
	if s.cfg.Nightly.On {
		go s.nightly(ctx)
	}
	go s.snapshots(ctx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

// housekeeping purges expired sessions and forgotten uploads.
func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.users.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("purge sessions", "err", err)
			}
			s.uploads.expire(2 * time.Hour)
			s.logins.expire()
		}
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// render writes a templ component as a 200 page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Error("render", "path", r.URL.Path, "err", err)
	}
}

// redirect answers a successful POST with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
