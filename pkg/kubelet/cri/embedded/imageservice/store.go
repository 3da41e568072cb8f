/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package imageservice

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	dockerref "github.com/distribution/reference"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ErrDigestMismatch is wrapped by a pull whose downloaded content does not
// match the digest that names it.
var ErrDigestMismatch = errors.New("digest mismatch")

const indexFileName = "images.json"

// imageRecord is one image as persisted in the index.
type imageRecord struct {
	ID          string   `json:"id"`
	RepoTags    []string `json:"repoTags,omitempty"`
	RepoDigests []string `json:"repoDigests,omitempty"`
	Size        uint64   `json:"size"`
	// Blobs are the digests of the content this image holds (manifests,
	// config, layers), released when the image is removed.
	Blobs []string `json:"blobs"`
}

func (r *imageRecord) toCRI() *runtimeapi.Image {
	return &runtimeapi.Image{
		Id:          r.ID,
		RepoTags:    slices.Clone(r.RepoTags),
		RepoDigests: slices.Clone(r.RepoDigests),
		Size:        r.Size,
		Spec:        &runtimeapi.ImageSpec{Image: r.ID},
	}
}

type indexFile struct {
	Images []imageRecord `json:"images"`
}

// store holds image metadata in memory, persisted to the index file, and
// content blobs on disk.
type store struct {
	dir string

	// mu guards images and inflight and serialises index writes. It is not
	// held while downloading.
	mu     sync.Mutex
	images map[string]*imageRecord
	// inflight counts, per blob digest, the pulls that may still commit an
	// image referencing it, so that removing another image sharing the
	// blob does not delete it under them.
	inflight map[string]int
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o700); err != nil {
		return nil, fmt.Errorf("create content directory: %w", err)
	}
	s := &store{dir: dir, images: map[string]*imageRecord{}, inflight: map[string]int{}}
	data, err := os.ReadFile(filepath.Join(dir, indexFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	var idx indexFile
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("decode image index %s: %w", filepath.Join(dir, indexFileName), err)
	}
	for i := range idx.Images {
		rec := idx.Images[i]
		s.images[rec.ID] = &rec
	}
	return s, nil
}

func (s *store) blobPath(digest string) string {
	_, hexPart, _ := strings.Cut(digest, ":")
	return filepath.Join(s.dir, "blobs", "sha256", hexPart)
}

func (s *store) hasBlob(digest string) bool {
	_, err := os.Stat(s.blobPath(digest))
	return err == nil
}

// hold protects blobs from removal until release is called with the same
// digests.
func (s *store) hold(digests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range digests {
		s.inflight[d]++
	}
}

func (s *store) release(digests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range digests {
		if s.inflight[d]--; s.inflight[d] <= 0 {
			delete(s.inflight, d)
		}
	}
}

// writeBlob copies r into the blob named digest, verifying the content's
// SHA-256 and, when size is not negative, its size. The blob appears under
// its final name only once verified.
func (s *store) writeBlob(digest string, size int64, r io.Reader) (err error) {
	algo, want, ok := strings.Cut(digest, ":")
	if !ok || algo != "sha256" {
		return fmt.Errorf("unsupported digest %q", digest)
	}
	final := s.blobPath(digest)
	tmp, err := os.CreateTemp(filepath.Dir(final), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("blob %s: content hashes to sha256:%s: %w", digest, got, ErrDigestMismatch)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("blob %s: %d bytes, manifest says %d: %w", digest, n, size, ErrDigestMismatch)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	return nil
}

// writeBytes stores data as the blob named digest.
func (s *store) writeBytes(digest string, data []byte) error {
	if s.hasBlob(digest) {
		return nil
	}
	return s.writeBlob(digest, int64(len(data)), bytes.NewReader(data))
}

// commit records that name (a normalised repo tag, or "" for a pull by
// digest) and repoDigest now point at rec.ID. A tag that pointed at another
// image leaves it, and an image left without names is removed, as containerd
// does.
func (s *store) commit(rec imageRecord, tag, repoDigest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[rec.ID]
	if !ok {
		img = &imageRecord{ID: rec.ID, Size: rec.Size, Blobs: slices.Clone(rec.Blobs)}
		s.images[rec.ID] = img
	}
	for _, b := range rec.Blobs {
		if !slices.Contains(img.Blobs, b) {
			img.Blobs = append(img.Blobs, b)
		}
	}
	if tag != "" {
		for id, other := range s.images {
			if id == rec.ID {
				continue
			}
			other.RepoTags = slices.DeleteFunc(other.RepoTags, func(t string) bool { return t == tag })
			if len(other.RepoTags) == 0 && len(other.RepoDigests) == 0 {
				s.deleteLocked(id)
			}
		}
		img.RepoTags = insertSorted(img.RepoTags, tag)
	}
	if repoDigest != "" {
		img.RepoDigests = insertSorted(img.RepoDigests, repoDigest)
	}
	return s.persistLocked()
}

func insertSorted(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	list = append(list, v)
	slices.Sort(list)
	return list
}

// find resolves spec (an image ID, a reference with a tag, or a reference
// with a digest, in any spelling the docker reference grammar accepts) to
// an image, or nil.
func (s *store) find(spec string) *imageRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findLocked(spec)
}

func (s *store) findLocked(spec string) *imageRecord {
	if spec == "" {
		return nil
	}
	if img, ok := s.images[spec]; ok {
		return img
	}
	if img, ok := s.images["sha256:"+spec]; ok {
		return img
	}
	named, err := dockerref.ParseNormalizedNamed(spec)
	if err != nil {
		return nil
	}
	if digested, ok := named.(dockerref.Digested); ok {
		want := named.Name() + "@" + digested.Digest().String()
		for _, img := range s.images {
			if slices.Contains(img.RepoDigests, want) {
				return img
			}
		}
		return nil
	}
	want := dockerref.TagNameOnly(named).String()
	for _, img := range s.images {
		if slices.Contains(img.RepoTags, want) {
			return img
		}
	}
	return nil
}

// list returns the images sorted by ID, so that listings are stable.
func (s *store) list() []*runtimeapi.Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.images))
	for id := range s.images {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*runtimeapi.Image, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.images[id].toCRI())
	}
	return out
}

// status returns the CRI view of the image spec names, or nil.
func (s *store) status(spec string) *runtimeapi.Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	if img := s.findLocked(spec); img != nil {
		return img.toCRI()
	}
	return nil
}

// remove deletes the image spec names, with all its names. An absent image
// is not an error.
func (s *store) remove(spec string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	img := s.findLocked(spec)
	if img == nil {
		return nil
	}
	s.deleteLocked(img.ID)
	return s.persistLocked()
}

// deleteLocked forgets the image and deletes the blobs no other image and no
// pull in flight holds.
func (s *store) deleteLocked(id string) {
	img, ok := s.images[id]
	if !ok {
		return
	}
	delete(s.images, id)
	for _, b := range img.Blobs {
		if s.inflight[b] > 0 || s.referencedLocked(b) {
			continue
		}
		// A blob that cannot be removed only wastes space; the image is
		// gone from the index either way.
		_ = os.Remove(s.blobPath(b))
	}
}

func (s *store) referencedLocked(blob string) bool {
	for _, img := range s.images {
		if slices.Contains(img.Blobs, blob) {
			return true
		}
	}
	return false
}

// usage sums the sizes of the blobs on disk.
func (s *store) usage() (used, inodes uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(filepath.Join(s.dir, "blobs", "sha256"))
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			used += uint64(info.Size())
			inodes++
		}
	}
	return used, inodes
}

// persistLocked writes the index atomically: temporary file, fsync, rename.
func (s *store) persistLocked() error {
	idx := indexFile{Images: make([]imageRecord, 0, len(s.images))}
	for _, img := range s.images {
		idx.Images = append(idx.Images, *img)
	}
	slices.SortFunc(idx.Images, func(a, b imageRecord) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("encode image index: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-index-*")
	if err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write image index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write image index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, indexFileName)); err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	return nil
}
