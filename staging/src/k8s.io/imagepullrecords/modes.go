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

package imagepullrecords

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// TightenFileModes sets FileMode on every regular intent and record file
// whose mode is looser (a file copied in by hand, or written by another
// tool with a wider umask), and returns the paths it changed. Symlinks,
// FIFOs, devices and directories are left alone: readers refuse them
// anyway. A reader never calls it; writers call it at start-up.
func (s *Store) TightenFileModes() ([]string, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	var changed []string
	var errs []error
	for _, dir := range []string{s.intentsDir, s.recordsDir} {
		names, err := s.listNames(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, name := range names {
			if !isRecordName(name) {
				continue
			}
			path := filepath.Join(dir, name)
			info, err := s.fs.Lstat(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("checking the mode of %s: %w", path, err))
				continue
			}
			if !LooseMode(info.Mode()) {
				continue
			}
			if err := s.fs.Chmod(path, FileMode); err != nil {
				errs = append(errs, fmt.Errorf("tightening the mode of %s: %w", path, err))
				continue
			}
			changed = append(changed, path)
		}
	}
	return changed, errors.Join(errs...)
}

// TightenFileMode sets FileMode on the file at rel (relative to the manager
// directory, as Walk reports it). A writer that found a loose mode while
// walking calls it, so start-up needs no second pass over the files.
func (s *Store) TightenFileMode(rel string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	path := filepath.Join(s.managerDir, rel)
	if err := s.fs.Chmod(path, FileMode); err != nil {
		return fmt.Errorf("tightening the mode of %s: %w", path, err)
	}
	return nil
}
