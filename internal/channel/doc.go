// Package channel owns what happens around channels besides video: viewer
// counts from player heartbeats (peak and average per broadcast), go-live
// notifications for followers, signed webhooks for going live and offline
// (delivered from a durable queue with retries), and avatar images. The
// directory queries themselves live in the store; the HTTP surface in api.
package channel
