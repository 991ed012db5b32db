package server

import (
	"context"
	"net/http"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
)

// actorKey holds the request's actor, built once from the session user.
type actorKey struct{}

// withActor puts the actor of user u, acting from r's client address, on
// the request's context.
func withActor(ctx context.Context, r *http.Request, u auth.User) context.Context {
	return context.WithValue(ctx, actorKey{}, u.Actor(clientIP(r)))
}

// currentActor is the signed-in user as the domain sees them; the zero
// actor (no role, may do nothing) before login.
func currentActor(r *http.Request) actor.Actor {
	a, _ := r.Context().Value(actorKey{}).(actor.Actor)
	return a
}

// allow guards a route with the action it performs: a role the permission
// table does not allow gets 403 before the handler runs. Where (the
// region) is the domain's check, with the same actor.
func (s *Server) allow(act actor.Action) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := currentActor(r).Check(act); err != nil {
				s.error(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// allowed is the set of actions a may do, by name, for the navigation.
func allowed(a actor.Actor) map[string]bool {
	out := map[string]bool{}
	for _, act := range actor.Actions {
		if a.May(act) {
			out[string(act)] = true
		}
	}
	return out
}
