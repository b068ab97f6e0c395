package api_test

import "testing"

func TestBlockedTermChangesAreInTheOwnersAuditLog(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string) {
		ts := start(t, dsn)
		owner := ts.signUp(t, "termowner@example.com")
		owner.createChannel(t, "termed", "games")
		want(t, owner.do(t, req{method: "PUT", path: "/api/v1/channels/termed/blocked-terms", body: map[string]string{"term": "spoiler", "action": "hold"}}), 204)
		want(t, owner.do(t, req{method: "DELETE", path: "/api/v1/channels/termed/blocked-terms?term=spoiler"}), 204)
		log := want(t, owner.get(t, "/api/v1/channels/termed/audit"), 200).json(t)["items"].([]any)
		actions := []string{}
		for _, e := range log {
			m := e.(map[string]any)
			actions = append(actions, m["action"].(string)+" "+m["target"].(string))
		}
		if len(actions) != 2 || actions[0] != "term.remove spoiler" || actions[1] != "term.set spoiler" {
			t.Errorf("audit = %q, want the removal and the addition, newest first", actions)
		}
	})
}
