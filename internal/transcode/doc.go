// Package transcode owns the adaptive-bitrate ladder and the one supervised
// ffmpeg process per live stream that turns the source into scaled H.264
// renditions (audio copied) and a JPEG thumbnail.
//
// One ffmpeg decodes the source once and splits it to every rendition. The
// source goes to ffmpeg's stdin as MPEG-TS; each rendition comes back as
// MPEG-TS on its own inherited pipe (see FirstOutputFD) and is handed to its
// Sink as media units. Guarantees:
//
//   - Outputs stay on the source timeline: an output frame has the PTS of
//     the source frame it was made from (ffmpeg runs with -copyts and a
//     90 kHz encoder time base), audio keeps its source timestamps.
//   - Key frames are on the source's key frames and nowhere else, in every
//     rendition (-force_key_frames source, no scene cuts, no B-frames), so
//     segments line up across the ladder.
//   - Writes never block the source: ffmpeg is fed through a bounded queue;
//     when it falls behind, input is dropped until the next key frame.
//   - When ffmpeg dies it is restarted (RestartDelay, 200 ms by default) and
//     fed again from the next source key frame; each sink then sees Begin
//     before the new epoch's first unit.
package transcode
