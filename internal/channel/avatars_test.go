package channel

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func encoded(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webp is a minimal lossless 1x1 WebP file.
var webp = []byte{'R', 'I', 'F', 'F', 0x1a, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 0x0d, 0, 0, 0,
	0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0}

func TestAvatarsAreAcceptedByContentNotByNameAndStoredUnderRandomNames(t *testing.T) {
	a := Avatars{Dir: t.TempDir()}
	const id = "ch_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	ok := map[string][]byte{".png": encoded(t, "png", 64, 64), ".jpg": encoded(t, "jpeg", 64, 48), ".webp": webp}
	for ext, data := range ok {
		name, err := a.Save(id, data)
		if err != nil || filepath.Ext(name) != ext || !ValidAvatarName(name) {
			t.Errorf("Save(%s) = %q, %v", ext, name, err)
			continue
		}
		if got, _ := os.ReadFile(filepath.Join(a.Dir, name)); !bytes.Equal(got, data) {
			t.Errorf("%s stored bytes differ", ext)
		}
		a.Remove(name)
	}
	bad := map[string][]byte{
		"gif":             encoded(t, "gif", 8, 8),
		"svg":             []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`),
		"html":            []byte("<html><script>alert(1)</script></html>"),
		"text":            []byte("hello"),
		"truncated png":   encoded(t, "png", 64, 64)[:30],
		"png header only": append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 40)...),
		"huge png":        encoded(t, "png", MaxAvatarSide+1, 1),
		"bad webp size":   append(append([]byte{}, webp...), 0, 0),
	}
	for name, data := range bad {
		if _, err := a.Save(id, data); !errors.Is(err, ErrAvatarType) {
			t.Errorf("%s: %v, want ErrAvatarType", name, err)
		}
	}
	if _, err := a.Save(id, make([]byte, MaxAvatarBytes+1)); !errors.Is(err, ErrAvatarTooLarge) {
		t.Errorf("oversize: %v", err)
	}
	if left, _ := os.ReadDir(a.Dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}
