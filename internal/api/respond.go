package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/store"
)

// Error is an API error answer: {"error": {"code", "message", "field"}}.
type Error struct {
	Status     int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	Field      string `json:"field,omitempty"`
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// MarshalJSON omits RetryAfter.
func (e *Error) MarshalJSON() ([]byte, error) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}
	return json.Marshal(body{e.Code, e.Message, e.Field})
}

// ErrorBody is the shape of every API error.
type ErrorBody struct {
	Error *Error `json:"error"`
}

func errBadRequest(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "validation", Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
		Message: "sign in first (session cookie) or send Authorization: Bearer <API token>"}
	errAdminOnly = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only admins may do this"}
	errNotOwner  = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only the channel's owner may do this"}
)

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what}
}

// toAPIError maps domain errors to answers; unknown errors are internal.
func toAPIError(err error) (*Error, bool) {
	var ae *Error
	var fe *store.FieldError
	var rl *account.RateLimitError
	var inactive *account.InactiveError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae, true
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Code: "validation", Field: fe.Field, Message: fe.Error()}, true
	case errors.As(err, &rl):
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: rl.Error(), RetryAfter: rl.RetryAfter}, true
	case errors.As(err, &inactive):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: inactive.Error()}, true
	case errors.Is(err, account.ErrBadCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: account.ErrBadCredentials.Error()}, true
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("the body is larger than %d bytes", mbe.Limit)}, true
	case errors.Is(err, store.ErrInsufficient):
		return &Error{Status: http.StatusPaymentRequired, Code: "insufficient_coins", Message: err.Error() + "; buy coins first"}, true
	case errors.Is(err, store.ErrIdempotencyConflict):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_conflict",
			Message: "this Idempotency-Key was used for a different request; use a new key for a new request"}, true
	case errors.Is(err, store.ErrStateChanged):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error() + "; reload and try again"}, true
	}
	if e, ok := refusalError(err); ok {
		return e, true
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("not found"), true
	case errors.Is(err, store.ErrExists):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "already exists"}, true
	case errors.Is(err, store.ErrLimit):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}, true
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: err.Error()}, true
	}
	return nil, false
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
	}
	w.Header().Set("Cache-Control", "no-store") // errors are never cached, whatever the handler meant to allow
	writeJSON(w, e.Status, ErrorBody{Error: e})
}

// writeJSON answers v as JSON. It is not cached (no-store) unless the
// handler has set its own Cache-Control.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // "<" becomes \u003c: text is data, never markup
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 64 << 10

// decodeJSON reads the request body into v strictly: JSON content type,
// one object, no unknown fields, no trailing data, at most maxJSONBody.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	return decodeBody(w, r, v)
}

func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "send the body as JSON with Content-Type: application/json"}
	}
	return nil
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "the body holds more than one JSON value"}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	bad := func(field, msg string) error {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Field: field, Message: msg}
	}
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("the body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, io.EOF):
		return bad("", "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("", "the body ends in the middle of the JSON")
	case errors.As(err, &syn):
		return bad("", fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset))
	case errors.As(err, &typ):
		return bad(typ.Field, fmt.Sprintf("field %q must be %s", typ.Field, typ.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return bad(name, fmt.Sprintf("unknown field %q", name))
	}
	return bad("", "the body is not valid JSON: "+err.Error())
}

// page is a paginated answer.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{After: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxPageLimit {
			return p, errBadRequest("limit", "limit must be a whole number from 1 to %d", store.MaxPageLimit)
		}
		p.Limit = n
	}
	if len(p.After) > 512 {
		return p, errBadRequest("cursor", "cursor is not a cursor from this listing; start again without one")
	}
	return p, nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errBadRequest(name, "%s must be true or false", name)
}

// refusalStatus maps the codes of refusals from the money service and the
// chat filters to HTTP statuses; unlisted codes are 400.
var refusalStatus = map[string]int{
	"insufficient_coins": http.StatusPaymentRequired, "insufficient_earnings": http.StatusPaymentRequired,
	"receivable_outstanding": http.StatusPaymentRequired, "card_declined": http.StatusPaymentRequired,
	"self_gift": http.StatusForbidden, "channel_suspended": http.StatusForbidden, "banned": http.StatusForbidden,
	"timed_out": http.StatusForbidden, "forbidden": http.StatusForbidden,
	"already_subscribed": http.StatusConflict, "break_running": http.StatusConflict, "conflict": http.StatusConflict,
	"payout_state": http.StatusConflict, "order_not_paid": http.StatusConflict,
	"offline": http.StatusConflict, "no_ads": http.StatusConflict, "break_over": http.StatusGone,
	"not_found": http.StatusNotFound, "unknown_order": http.StatusNotFound, "not_subscribed": http.StatusNotFound,
	"amount_mismatch": http.StatusUnprocessableEntity,
}

// refusalError turns an error with a Code() (money and chat refusals)
// into an answer.
func refusalError(err error) (*Error, bool) {
	var rf interface {
		error
		Code() string
	}
	if !errors.As(err, &rf) {
		return nil, false
	}
	status, ok := refusalStatus[rf.Code()]
	if !ok {
		status = http.StatusBadRequest
	}
	return &Error{Status: status, Code: rf.Code(), Message: rf.Error()}, true
}
