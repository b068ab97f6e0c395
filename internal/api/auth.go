package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/store"
)

const (
	apiPrefix  = "/api/v1"
	cookieName = "lh_session"
	csrfHeader = "X-CSRF-Token"
)

// Access says who may call a route.
type Access int

// Access levels. A route on a channel further needs the channel's owner,
// admin or moderator where its Owner, OwnerOrAdmin or Moderator flag says.
const (
	Public      Access = iota // anyone; a signed-in caller is still recognised
	SignedIn                  // a session or an API token
	SessionOnly               // a browser session; API tokens are refused
	AdminOnly                 // an admin, by session or token
)

// Route is one endpoint of the API.
type Route struct {
	Method string
	Path   string // under /api/v1, with {wildcards}
	Access Access
	// Owner marks {slug} routes that further need the channel's owner (or
	// an admin, where OwnerOrAdmin; or one of its moderators too, where
	// Moderator). wrap checks them before the handler runs, and answers 403
	// to other users.
	Owner        bool
	OwnerOrAdmin bool
	Moderator    bool
	// NoCSRF exempts a mutating route from the CSRF token (heartbeats).
	NoCSRF bool
	// Body bounds the request body; default maxJSONBody.
	Body    int64
	handler func(w http.ResponseWriter, r *http.Request) error
}

type principalKey struct{}

// principal returns the caller, or nil when anonymous.
func principal(r *http.Request) *account.Principal {
	p, _ := r.Context().Value(principalKey{}).(*account.Principal)
	return p
}

func isUnsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// wrap applies authentication, access, CSRF and body limits to a route's
// handler, and turns its error into an answer.
func (a *API) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := rt.Body
		if limit == 0 {
			limit = maxJSONBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		p, err := a.authenticate(w, r, rt.Access != Public)
		if err == nil {
			err = a.authorize(rt, r, p)
		}
		if err == nil && p != nil {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		if err == nil {
			r, err = a.authorizeChannel(rt, r)
		}
		if err == nil {
			err = rt.handler(w, r)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

func (a *API) authorize(rt Route, r *http.Request, p *account.Principal) error {
	if rt.Access == Public {
		return nil
	}
	if p == nil {
		return errUnauthenticated
	}
	if isUnsafe(r.Method) && p.ViaSession() && !rt.NoCSRF && !account.CheckCSRF(p.SessionToken, r.Header.Get(csrfHeader)) {
		return &Error{Status: http.StatusForbidden, Code: "csrf",
			Message: "missing or wrong " + csrfHeader + " header; read csrf_token from GET " + apiPrefix + "/auth/me"}
	}
	switch {
	case rt.Access == SessionOnly && !p.ViaSession():
		return &Error{Status: http.StatusForbidden, Code: "forbidden",
			Message: "API tokens cannot manage tokens or passwords; sign in with a browser session"}
	case rt.Access == AdminOnly && p.User.Role != store.RoleAdmin:
		return errAdminOnly
	}
	return nil
}

// authorizeChannel enforces the route's Owner, OwnerOrAdmin and Moderator
// flags. The channel it read goes with the request, for loadChannel.
func (a *API) authorizeChannel(rt Route, r *http.Request) (*http.Request, error) {
	if !rt.Owner && !rt.OwnerOrAdmin && !rt.Moderator || r.PathValue("slug") == "" {
		return r, nil
	}
	need := ownerOrAdmin
	if rt.Owner {
		need = ownerOnly
	}
	ch, err := a.loadChannel(r, need)
	if errors.Is(err, errNotOwner) && rt.Moderator {
		var mods []string
		if mods, err = a.cfg.Store.Moderators(r.Context(), ch.ID); err != nil {
			return r, err
		}
		if !slices.Contains(mods, principal(r).User.ID) {
			return r, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only the channel's owner or its moderators can do that"}
		}
	} else if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), loadedChannelKey{}, ch)), nil
}

type loadedChannelKey struct{}

// authenticate finds the caller: a bearer token, else the session cookie.
// A bad bearer token is an error (401); a stale cookie is anonymous, and is
// cleared. A suspended account is anonymous on public routes and an error
// (403) where sign-in is required.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request, required bool) (*account.Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
				Message: "Authorization must be \"Bearer <API token>\""}
		}
		p, err := a.cfg.Accounts.AuthenticateToken(ctx, strings.TrimSpace(token))
		if errors.Is(err, account.ErrNotSignedIn) {
			return nil, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
				Message: "unknown or revoked API token"}
		}
		if err != nil {
			return nil, a.inactiveOr(err, required)
		}
		return &p, nil
	}
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	p, err := a.cfg.Accounts.AuthenticateSession(ctx, c.Value)
	if errors.Is(err, account.ErrNotSignedIn) {
		a.clearCookie(w, r)
		return nil, nil
	}
	if err != nil {
		return nil, a.inactiveOr(err, required)
	}
	return &p, nil
}

func (a *API) inactiveOr(err error, required bool) error {
	var inactive *account.InactiveError
	if errors.As(err, &inactive) && !required {
		return nil
	}
	return err
}

func (a *API) setCookie(w http.ResponseWriter, r *http.Request, s account.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.Token, Path: "/", Expires: s.Expires,
		MaxAge: int(time.Until(s.Expires).Seconds()), HttpOnly: true,
		Secure: a.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

func (a *API) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// fail writes err as an API error; unexpected errors are logged and become 500.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := toAPIError(err)
	if !ok {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has details"}
	}
	writeError(w, e)
}
