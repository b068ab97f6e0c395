package api

import (
	"net/http"
	"time"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/store"
)

// meView answers sign-up, sign-in and /auth/me.
type meView struct {
	User      UserView `json:"user"`
	CSRFToken string   `json:"csrf_token,omitempty"` // only for browser sessions
}

func (a *API) signUp(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email       string `json:"email"`
		Password    string `json:"password"`
		DisplayName string `json:"display_name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := a.cfg.Accounts.SignUp(r.Context(), a.clientKey(r), in.Email, in.Password, in.DisplayName)
	if err != nil {
		if e, ok := toAPIError(err); ok && e.Code == "conflict" {
			// Worded to confirm as little as a sign-up answer can (sign-up is
			// rate limited per address, so the answer cannot be mined fast).
			return &Error{Status: http.StatusConflict, Code: "conflict", Field: "email",
				Message: "cannot create an account with this email; if you have one, sign in"}
		}
		return err
	}
	a.setCookie(w, r, s)
	writeJSON(w, http.StatusCreated, meView{User: userView(s.User), CSRFToken: account.CSRFToken(s.Token)})
	return nil
}

func (a *API) signIn(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := a.cfg.Accounts.SignIn(r.Context(), a.clientKey(r), in.Email, in.Password)
	if err != nil {
		return err
	}
	a.setCookie(w, r, s)
	writeJSON(w, http.StatusOK, meView{User: userView(s.User), CSRFToken: account.CSRFToken(s.Token)})
	return nil
}

func (a *API) signOut(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.ViaSession() {
		ctx, cancel := background(r.Context())
		defer cancel()
		if err := a.cfg.Accounts.SignOut(ctx, p.SessionToken); err != nil {
			return err
		}
		a.clearCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	v := meView{User: userView(p.User)}
	if p.ViaSession() {
		v.CSRFToken = account.CSRFToken(p.SessionToken)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) updateMe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DisplayName *string `json:"display_name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.cfg.Store.UpdateUser(r.Context(), principal(r).User.ID, store.UserPatch{DisplayName: in.DisplayName})
	a.cfg.Accounts.ForgetUser(principal(r).User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := a.cfg.Accounts.ChangePassword(r.Context(), principal(r).User, in.Current, in.New)
	if err != nil {
		return err
	}
	a.setCookie(w, r, s)
	writeJSON(w, http.StatusOK, meView{User: userView(s.User), CSRFToken: account.CSRFToken(s.Token)})
	return nil
}

// TokenView describes an API token; the token itself appears only in the
// answer that creates it.
type TokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"`
}

func tokenView(t store.APIToken) TokenView {
	v := TokenView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
	if !t.LastUsedAt.IsZero() {
		used := t.LastUsedAt
		v.LastUsedAt = &used
	}
	return v
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.cfg.Store.ListAPITokens(r.Context(), principal(r).User.ID)
	if err != nil {
		return err
	}
	out := make([]TokenView, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenView(t))
	}
	writeJSON(w, http.StatusOK, page[TokenView]{Items: out})
	return nil
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, token, err := a.cfg.Store.CreateAPIToken(r.Context(), principal(r).User.ID, in.Name)
	if err != nil {
		return err
	}
	v := tokenView(t)
	v.Token = token
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.cfg.Store.DeleteAPIToken(r.Context(), principal(r).User.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
