package channel

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG for image.DecodeConfig
	_ "image/png"  // registers PNG for image.DecodeConfig
	"net/http"
	"os"
	"path/filepath"
	"regexp"
)

// Avatar limits.
const (
	MaxAvatarBytes = 1 << 20
	MaxAvatarSide  = 4096
)

// Avatar errors.
var (
	ErrAvatarTooLarge = fmt.Errorf("avatar is larger than %d bytes", MaxAvatarBytes)
	ErrAvatarType     = errors.New("avatar must be a PNG, JPEG or WebP image")
)

// avatarTypes maps sniffed content types to file extensions.
var avatarTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}

// Avatars stores avatar images as files in Dir, named by random ids so that
// their URLs can be cached forever.
type Avatars struct {
	Dir string
}

// Save checks that data is a PNG, JPEG or WebP image by its content (never
// by its name or declared type), writes it, and returns its file name.
// Nothing is left behind on error.
func (a Avatars) Save(channelID string, data []byte) (string, error) {
	if len(data) > MaxAvatarBytes {
		return "", ErrAvatarTooLarge
	}
	ext, err := sniffAvatar(data)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(a.Dir, 0o750); err != nil {
		return "", fmt.Errorf("avatar directory: %w", err)
	}
	var rnd [12]byte
	rand.Read(rnd[:]) // never fails (Go 1.24+)
	name := channelID + "-" + hex.EncodeToString(rnd[:]) + ext
	tmp, err := os.CreateTemp(a.Dir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("save avatar: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("save avatar: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(a.Dir, name)); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("save avatar: %w", err)
	}
	return name, nil
}

func sniffAvatar(data []byte) (string, error) {
	ext, ok := avatarTypes[http.DetectContentType(data)]
	if !ok {
		return "", ErrAvatarType
	}
	if ext == ".webp" {
		if !validWebP(data) {
			return "", ErrAvatarType
		}
		return ext, nil
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrAvatarType, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxAvatarSide || cfg.Height > MaxAvatarSide {
		return "", fmt.Errorf("%w: %dx%d pixels, at most %d on a side", ErrAvatarType, cfg.Width, cfg.Height, MaxAvatarSide)
	}
	return ext, nil
}

// validWebP checks the RIFF container: the declared size matches and the
// first chunk is an image chunk.
func validWebP(b []byte) bool {
	if len(b) < 20 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return false
	}
	size := int(b[4]) | int(b[5])<<8 | int(b[6])<<16 | int(b[7])<<24
	chunk := string(b[12:16])
	return size+8 == len(b) && (chunk == "VP8 " || chunk == "VP8L" || chunk == "VP8X")
}

// Remove deletes an avatar file; unknown names are ignored.
func (a Avatars) Remove(name string) {
	if ValidAvatarName(name) {
		os.Remove(filepath.Join(a.Dir, name))
	}
}

var avatarNameRE = regexp.MustCompile(`^ch_[a-z2-7]{26}-[0-9a-f]{24}\.(png|jpg|webp)$`)

// ValidAvatarName reports whether name can be an avatar file made by Save.
func ValidAvatarName(name string) bool { return avatarNameRE.MatchString(name) }

// ContentType returns the type of an avatar file by its extension.
func ContentType(name string) string {
	for t, ext := range avatarTypes {
		if filepath.Ext(name) == ext {
			return t
		}
	}
	return "application/octet-stream"
}
