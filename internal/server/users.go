package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/web"
)

func (s *Server) routesUsers(r chi.Router) {
	r = r.With(s.allow(actor.UsersManage))
	r.Get("/users", s.handleUsers)
	r.Post("/users", s.handleUserCreate)
	r.Post("/users/{id}/disable", s.handleUserDisable(true))
	r.Post("/users/{id}/enable", s.handleUserDisable(false))
	r.Post("/users/{id}/password", s.handleUserPassword)
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, web.UserForm{Role: string(actor.County)})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, form web.UserForm) {
	lq := list.Parse(r.URL.Query(), list.Spec{Filters: []string{"q"}})
	q := lq.Filter("q")
	users, err := s.users.List(r.Context(), currentActor(r), q, lq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := web.UsersView{Page: s.page(r, "用户管理", "users"), Query: q, Pager: web.PagerOf(users.Query, users.Total, "/users"), Form: form}
	for _, u := range users.Items {
		v.Users = append(v.Users, web.UserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName,
			Role: u.Role.Label(), Region: u.RegionName + " " + u.RegionCode, Disabled: u.Disabled})
	}
	for _, role := range actor.Roles {
		v.Roles = append(v.Roles, web.Option{Value: string(role), Label: role.Label()})
	}
	s.render(w, r, web.Users(v))
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	n := auth.NewUser{
		Username:    r.PostFormValue("username"),
		DisplayName: r.PostFormValue("display_name"),
		Role:        actor.Role(r.PostFormValue("role")),
		RegionCode:  strings.TrimSpace(r.PostFormValue("region")),
		Password:    r.PostFormValue("password"),
	}
	if _, err := s.users.Create(r.Context(), currentActor(r), n); err != nil {
		if apperr.KindOf(err) == apperr.Internal {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		s.renderUsers(w, r, web.UserForm{Username: n.Username, DisplayName: n.DisplayName, Role: string(n.Role),
			RegionCode: n.RegionCode, Error: apperr.Message(err)})
		return
	}
	redirect(w, r, "/users?flash="+url.QueryEscape("已创建用户 "+n.Username))
}

// targetUser loads the user named in the URL; users outside the admin's
// region are not found.
func (s *Server) targetUser(r *http.Request) (auth.User, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return auth.User{}, apperr.NotFoundf("用户不存在")
	}
	return s.users.Get(r.Context(), currentActor(r), id)
}

func (s *Server) handleUserDisable(disable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.targetUser(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.users.SetDisabled(r.Context(), currentActor(r), u.ID, disable); err != nil {
			s.error(w, r, err)
			return
		}
		msg := "已启用用户 "
		if disable {
			msg = "已停用用户 "
		}
		redirect(w, r, "/users?flash="+url.QueryEscape(msg+u.Username))
	}
}

func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	u, err := s.targetUser(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.users.SetPassword(r.Context(), currentActor(r), u.ID, r.PostFormValue("password")); err != nil {
		s.error(w, r, err)
		return
	}
	redirect(w, r, "/users?flash="+url.QueryEscape("已重置用户 "+u.Username+" 的密码"))
}
