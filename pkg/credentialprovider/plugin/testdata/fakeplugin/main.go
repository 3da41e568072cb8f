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

// Command fakeplugin is a credential provider plugin for the tests of
// package plugin. Its behaviour is set by environment variables (the
// provider's env in the test's config):
//
//	FAKE_PLUGIN_MODE            ok (default), hang, crash, garbage, wrongkind,
//	                            wrongversion, badcachekey, negduration, big,
//	                            orphan
//	FAKE_PLUGIN_RECORD          file to append the request it got to, one
//	                            line per execution
//	FAKE_PLUGIN_AUTH            auth entries, "key=user:password;key2=..."
//	FAKE_PLUGIN_PASSWORD_TOKEN  if set, every password is the token received
//	FAKE_PLUGIN_CACHE_KEY_TYPE  cacheKeyType (default Image)
//	FAKE_PLUGIN_CACHE_DURATION  cacheDuration (default: not set)
//	FAKE_PLUGIN_SLEEP           how long to wait before answering
//	FAKE_PLUGIN_BIG_BYTES       how much the big mode prints
//	FAKE_PLUGIN_PIDFILE         hang mode: where to write the PID of a child
//	                            it starts in its process group
//
// Every failure mode prints the fake secrets below, which must never appear
// in the kubelet's errors.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

const (
	secretStdout   = "FAKE-SECRET-STDOUT"
	secretStderr   = "FAKE-SECRET-STDERR"
	secretPassword = "FAKE-SECRET-PASSWORD"
)

type authConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	if path := os.Getenv("FAKE_PLUGIN_RECORD"); path != "" {
		record(path, input)
	}
	var req struct {
		APIVersion          string `json:"apiVersion"`
		Image               string `json:"image"`
		ServiceAccountToken string `json:"serviceAccountToken"`
	}
	if err := json.Unmarshal(input, &req); err != nil {
		fail("decoding the request: %v", err)
	}
	if d := os.Getenv("FAKE_PLUGIN_SLEEP"); d != "" {
		wait, err := time.ParseDuration(d)
		if err != nil {
			fail("FAKE_PLUGIN_SLEEP: %v", err)
		}
		time.Sleep(wait)
	}

	resp := map[string]any{
		"kind":         "CredentialProviderResponse",
		"apiVersion":   req.APIVersion,
		"cacheKeyType": envOr("FAKE_PLUGIN_CACHE_KEY_TYPE", "Image"),
		"auth":         auths(req.ServiceAccountToken),
	}
	if d := os.Getenv("FAKE_PLUGIN_CACHE_DURATION"); d != "" {
		resp["cacheDuration"] = d
	}

	switch mode := envOr("FAKE_PLUGIN_MODE", "ok"); mode {
	case "ok":
	case "hang":
		if pidFile := os.Getenv("FAKE_PLUGIN_PIDFILE"); pidFile != "" {
			startChild(pidFile)
		}
		fmt.Fprint(os.Stderr, secretStderr)
		fmt.Fprint(os.Stdout, `{"kind":"`+secretStdout)
		time.Sleep(time.Hour)
		return
	case "crash":
		fmt.Fprintln(os.Stderr, secretStderr)
		fmt.Fprintln(os.Stdout, secretStdout)
		os.Exit(1)
	case "garbage":
		fmt.Fprintln(os.Stdout, "not JSON "+secretStdout)
		return
	case "wrongkind":
		resp["kind"] = secretStdout
	case "wrongversion":
		resp["apiVersion"] = envOr("FAKE_PLUGIN_API_VERSION", "credentialprovider.kubelet.k8s.io/"+secretStdout)
	case "badcachekey":
		resp["cacheKeyType"] = secretStdout
	case "negduration":
		resp["cacheDuration"] = "-1m"
	case "big":
		n, err := strconv.Atoi(envOr("FAKE_PLUGIN_BIG_BYTES", "2097152"))
		if err != nil {
			fail("FAKE_PLUGIN_BIG_BYTES: %v", err)
		}
		out := []byte(strings.Repeat(secretStdout, n/len(secretStdout)+1))[:n]
		_, _ = os.Stdout.Write(out)
		return
	case "orphan":
		// A child that inherits stdout and outlives this process.
		child := exec.Command("sleep", "3600")
		child.Stdout = os.Stdout
		if err := child.Start(); err != nil {
			fail("starting the orphan: %v", err)
		}
		if pidFile := os.Getenv("FAKE_PLUGIN_PIDFILE"); pidFile != "" {
			writePID(pidFile, child.Process.Pid)
		}
	default:
		fail("unknown FAKE_PLUGIN_MODE %q", mode)
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		fail("encoding: %v", err)
	}
}

// auths builds the auth map from FAKE_PLUGIN_AUTH.
func auths(token string) map[string]authConfig {
	out := map[string]authConfig{}
	spec := os.Getenv("FAKE_PLUGIN_AUTH")
	if spec == "" {
		return out
	}
	for entry := range strings.SplitSeq(spec, ";") {
		key, cred, _ := strings.Cut(entry, "=")
		user, password, _ := strings.Cut(cred, ":")
		if os.Getenv("FAKE_PLUGIN_PASSWORD_TOKEN") != "" {
			password = token
		}
		if password == "" {
			password = secretPassword
		}
		out[key] = authConfig{Username: user, Password: password}
	}
	return out
}

// record appends the request as one line (it is compact JSON).
func record(path string, input []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fail("opening the record file: %v", err)
	}
	line := append([]byte(strings.TrimSpace(string(input))), '\n')
	if _, err := f.Write(line); err != nil {
		fail("recording: %v", err)
	}
	if err := f.Close(); err != nil {
		fail("closing the record file: %v", err)
	}
}

// startChild starts a child in this process's group that sleeps, and
// writes its PID to pidFile.
func startChild(pidFile string) {
	child := exec.Command("sleep", "3600")
	if err := child.Start(); err != nil {
		fail("starting a child: %v", err)
	}
	writePID(pidFile, child.Process.Pid)
}

func writePID(path string, pid int) {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)), 0o600); err != nil {
		fail("writing the PID file: %v", err)
	}
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fakeplugin: "+format+"\n", args...)
	os.Exit(2)
}
