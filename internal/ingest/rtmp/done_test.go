package rtmp

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestPublicationEndedByTheConsumerClosesTheConnection(t *testing.T) {
	rec := newRecorder()
	srv, logs := startServer(t, rec, serverOpts{})
	baseline := runtime.NumGoroutine()

	ff := startFFmpeg(t, ffmpegPublishArgs(publishURL(srv, testKey), "-t", "20")...)
	pub := rec.next(t, 5*time.Second)
	pub.waitBegin(t, 5*time.Second)
	close(pub.done) // the channel is taken off the air
	if err := pub.waitEnd(t, 3*time.Second); !errors.Is(err, ErrEndedByConsumer) {
		t.Fatalf("End(%v), want ErrEndedByConsumer", err)
	}
	select {
	case <-ff.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the publisher's connection stayed open")
	}
	logs.waitLog(t, time.Second, "channel taken off the air")
	waitGoroutines(t, baseline)
}
