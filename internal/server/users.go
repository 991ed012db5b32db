package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/web"
)

const perPage = 50

func (s *Server) routesUsers(r chi.Router) {
	r.Get("/users", s.handleUsers)
	r.Post("/users", s.handleUserCreate)
	r.Post("/users/{id}/disable", s.handleUserDisable(true))
	r.Post("/users/{id}/enable", s.handleUserDisable(false))
	r.Post("/users/{id}/password", s.handleUserPassword)
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, web.UserForm{Role: string(auth.County)})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, form web.UserForm) {
	me, _ := currentUser(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	pg := pager(r, "/users", url.Values{"q": {q}})
	list, err := s.users.List(r.Context(), me.RegionCode, q, pg.PerPage, pg.Offset())
	if err != nil {
		s.error(w, r, err)
		return
	}
	pg.Total = list.Total
	v := web.UsersView{Page: s.page(r, "用户管理", "users"), Query: q, Pager: pg, Form: form}
	for _, u := range list.Users {
		v.Users = append(v.Users, web.UserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName,
			Role: u.Role.Label(), Region: u.RegionName + " " + u.RegionCode, Disabled: u.Disabled})
	}
	for _, role := range auth.Roles {
		v.Roles = append(v.Roles, web.RoleOption{Value: string(role), Label: role.Label()})
	}
	s.render(w, r, web.Users(v))
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	me, _ := currentUser(r)
	n := auth.NewUser{
		Username:    r.PostFormValue("username"),
		DisplayName: r.PostFormValue("display_name"),
		Role:        auth.Role(r.PostFormValue("role")),
		RegionCode:  strings.TrimSpace(r.PostFormValue("region")),
		Password:    r.PostFormValue("password"),
	}
	var err error
	if !me.Sees(n.RegionCode) {
		err = apperr.Invalidf("只能在本人管辖区划（%s）内创建用户", me.RegionName)
	} else {
		_, err = s.users.Create(r.Context(), n)
	}
	if err != nil {
		s.audit(r, audit.Entry{Action: audit.UserCreate, Object: "user:" + n.Username, Result: "rejected", Detail: apperr.Message(err)})
		if apperr.KindOf(err) == apperr.Internal {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		s.renderUsers(w, r, web.UserForm{Username: n.Username, DisplayName: n.DisplayName, Role: string(n.Role),
			RegionCode: n.RegionCode, Error: apperr.Message(err)})
		return
	}
	s.audit(r, audit.Entry{Action: audit.UserCreate, Object: "user:" + n.Username, Detail: string(n.Role) + " " + n.RegionCode})
	redirect(w, r, "/users?flash="+url.QueryEscape("已创建用户 "+n.Username))
}

// targetUser loads the user named in the URL, hiding users outside the
// admin's region as not found.
func (s *Server) targetUser(r *http.Request) (auth.User, error) {
	me, _ := currentUser(r)
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return auth.User{}, apperr.NotFoundf("用户不存在")
	}
	u, err := s.users.ByID(r.Context(), id)
	if err != nil || !me.Sees(u.RegionCode) {
		return auth.User{}, apperr.NotFoundf("用户不存在")
	}
	return u, nil
}

func (s *Server) handleUserDisable(disable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.targetUser(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		me, _ := currentUser(r)
		if u.ID == me.ID && disable {
			s.error(w, r, apperr.Invalidf("不能停用自己的账户"))
			return
		}
		if err := s.users.SetDisabled(r.Context(), u.ID, disable); err != nil {
			s.error(w, r, err)
			return
		}
		action, msg := audit.UserEnable, "已启用用户 "
		if disable {
			action, msg = audit.UserDisable, "已停用用户 "
		}
		s.audit(r, audit.Entry{Action: action, Region: u.RegionCode, Object: "user:" + u.Username})
		redirect(w, r, "/users?flash="+url.QueryEscape(msg+u.Username))
	}
}

func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	u, err := s.targetUser(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.users.SetPassword(r.Context(), u.ID, r.PostFormValue("password")); err != nil {
		s.audit(r, audit.Entry{Action: audit.UserPassword, Region: u.RegionCode, Object: "user:" + u.Username, Result: "rejected", Detail: apperr.Message(err)})
		s.error(w, r, err)
		return
	}
	s.audit(r, audit.Entry{Action: audit.UserPassword, Region: u.RegionCode, Object: "user:" + u.Username})
	redirect(w, r, "/users?flash="+url.QueryEscape("已重置用户 "+u.Username+" 的密码"))
}

// pager reads ?page= for a list at path.
func pager(r *http.Request, path string, base url.Values) web.Pager {
	return web.Pager{Page: pageParam(r, "page"), PerPage: perPage, Path: path, Base: base}
}
