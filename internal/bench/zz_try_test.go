package bench

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestTry(t *testing.T) {
	args := strings.Fields(os.Getenv("TRY_ARGS"))
	var err error
	switch os.Getenv("TRY") {
	case "startup":
		err = Startup(context.Background(), args, os.Stdout)
	case "latency":
		err = Latency(context.Background(), args, os.Stdout)
	case "transcode":
		err = TranscodeCost(context.Background(), args, os.Stdout)
	default:
		t.Skip()
	}
	if err != nil {
		t.Fatal(err)
	}
}
