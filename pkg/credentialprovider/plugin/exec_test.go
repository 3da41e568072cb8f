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

package plugin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

// secrets are strings the fake plugin prints or receives that must never
// appear in an error or a log.
var secrets = []string{"FAKE-SECRET", "FAKE-TOKEN", "p4ssw0rd"}

func TestLookupFailures(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts plugin.Options
		// attrs, when set, make the plugin get a token (which must not
		// leak either).
		attrs map[string]any
		// removeBinary deletes the plugin after NewProviders.
		removeBinary bool
		// pidFile: the test checks that the process whose PID the plugin
		// wrote there was killed.
		pidFile bool
		wantErr string
	}{
		{name: "non-zero exit", env: map[string]string{"FAKE_PLUGIN_MODE": "crash"}, wantErr: "failed: exit status 1"},
		{
			name: "non-zero exit with a token", env: map[string]string{"FAKE_PLUGIN_MODE": "crash"},
			attrs:   map[string]any{"serviceAccountTokenAudience": "aud", "cacheType": "Token", "requireServiceAccount": true},
			wantErr: "failed: exit status 1",
		},
		{
			name: "timeout kills the process group", env: map[string]string{"FAKE_PLUGIN_MODE": "hang"},
			opts: plugin.Options{ExecTimeout: 500 * time.Millisecond}, pidFile: true,
			wantErr: "timed out after 500ms",
		},
		{
			name: "stdout over the bound", env: map[string]string{"FAKE_PLUGIN_MODE": "big", "FAKE_PLUGIN_BIG_BYTES": "4096"},
			opts:    plugin.Options{MaxStdout: 1024},
			wantErr: "stdout exceeded 1024 bytes",
		},
		{
			name: "stdout over the default bound", env: map[string]string{"FAKE_PLUGIN_MODE": "big", "FAKE_PLUGIN_BIG_BYTES": strconv.Itoa(1<<20 + 1)},
			wantErr: "stdout exceeded 1048576 bytes",
		},
		{name: "not JSON", env: map[string]string{"FAKE_PLUGIN_MODE": "garbage"}, wantErr: "the response is not valid JSON"},
		{name: "wrong kind", env: map[string]string{"FAKE_PLUGIN_MODE": "wrongkind"}, wantErr: "the response's kind is not CredentialProviderResponse"},
		{
			name: "another apiVersion", env: map[string]string{"FAKE_PLUGIN_MODE": "wrongversion", "FAKE_PLUGIN_API_VERSION": v1beta1Exec},
			wantErr: "the response's apiVersion is not credentialprovider.kubelet.k8s.io/v1, the request's",
		},
		{
			name: "unknown apiVersion", env: map[string]string{"FAKE_PLUGIN_MODE": "wrongversion"},
			wantErr: "the response's apiVersion is not credentialprovider.kubelet.k8s.io/v1",
		},
		{name: "unknown cacheKeyType", env: map[string]string{"FAKE_PLUGIN_MODE": "badcachekey"}, wantErr: "the response's cacheKeyType is not one of Image, Registry, Global"},
		{name: "blank cacheKeyType", env: map[string]string{"FAKE_PLUGIN_CACHE_KEY_TYPE": " "}, wantErr: "the response's cacheKeyType is not one of"},
		{name: "negative cacheDuration", env: map[string]string{"FAKE_PLUGIN_MODE": "negduration"}, wantErr: "the response's cacheDuration is negative"},
		{name: "bad cacheDuration", env: map[string]string{"FAKE_PLUGIN_CACHE_DURATION": "FAKE-SECRET-DURATION"}, wantErr: "the response does not decode as a CredentialProviderResponse"},
		{
			name: "a process it started holds stdout", env: map[string]string{"FAKE_PLUGIN_MODE": "orphan"}, pidFile: true,
			wantErr: "exited, but a process it started kept its stdout open",
		},
		{name: "cannot execute", removeBinary: true, wantErr: "executing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			env := map[string]string{"FAKE_PLUGIN_AUTH": "reg.example=user:p4ssw0rd"}
			for k, v := range tc.env {
				env[k] = v
			}
			pidFile := filepath.Join(t.TempDir(), "pid")
			if tc.pidFile {
				env["FAKE_PLUGIN_PIDFILE"] = pidFile
			}
			opts := tc.opts
			opts.ServiceAccountTokens = true
			opts.BinDir = binDir(t, "good", "bad")
			p := newProviders(t, opts,
				providerSpec{name: "good", match: []string{"reg.example"}, env: map[string]string{"FAKE_PLUGIN_AUTH": "reg.example=good:p"}},
				providerSpec{name: "bad", match: []string{"reg.example"}, env: env, tokenAttributes: tc.attrs},
			)
			if tc.removeBinary {
				if err := os.Remove(filepath.Join(opts.BinDir, "bad")); err != nil {
					t.Fatal(err)
				}
			}
			errorsBefore, _ := testutil.GetCounterMetricValue(plugin.PluginErrors.WithLabelValues("bad"))
			got, err := p.Lookup(ctx, "reg.example/app", testPod, newFakeSAs(serviceAccount("uid-1", nil)))
			if err == nil {
				t.Fatalf("Lookup() = %v, want an error", creds(got))
			}
			if got != nil {
				t.Errorf("Lookup() = %v with an error, want nothing (fail safe)", creds(got))
			}
			var pe *plugin.PluginError
			if !errors.As(err, &pe) || pe.Plugin != "bad" {
				t.Fatalf("Lookup() error = %v, want a *PluginError for plugin bad", err)
			}
			if !strings.HasPrefix(err.Error(), `credential provider plugin "bad": `) {
				t.Errorf("Lookup() error = %q, want it to start with the plugin's name", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Lookup() error = %q, want it to contain %q", err, tc.wantErr)
			}
			for _, secret := range secrets {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Lookup() error = %q contains %q", err, secret)
				}
			}
			if !tc.removeBinary {
				errorsAfter, _ := testutil.GetCounterMetricValue(plugin.PluginErrors.WithLabelValues("bad"))
				if errorsAfter != errorsBefore+1 {
					t.Errorf("plugin errors went from %v to %v, want one more", errorsBefore, errorsAfter)
				}
			}
			if tc.pidFile {
				waitKilled(t, pidFile)
			}
		})
	}
}

// waitKilled waits until the process whose PID is in pidFile is gone (or
// a zombie, which a reaper will collect).
func waitKilled(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the plugin wrote no PID: %v", err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("bad PID %q", data)
	}
	// Killing is asynchronous: poll, with a deadline far above the time it
	// takes, only to fail instead of hanging.
	deadline := time.Now().Add(30 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// The state follows the command name in parentheses.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d the plugin started is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	// Every path, at the highest verbosity: successes, cache hits and
	// failures.
	var logs strings.Builder
	for _, mode := range []string{"ok", "crash", "garbage", "wrongkind", "big", "badcachekey"} {
		t.Run(mode, func(t *testing.T) {
			logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(10), ktesting.BufferLogs(true)))
			ctx := klog.NewContext(context.Background(), logger)
			p := newProviders(t, plugin.Options{ServiceAccountTokens: true, MaxStdout: 512}, providerSpec{
				name: "fake", match: []string{"reg.example"}, cacheDuration: "1h",
				env: map[string]string{"FAKE_PLUGIN_MODE": mode, "FAKE_PLUGIN_AUTH": "reg.example=user:p4ssw0rd", "FAKE_PLUGIN_BIG_BYTES": "4096"},
				tokenAttributes: map[string]any{
					"serviceAccountTokenAudience": "aud", "cacheType": "ServiceAccount", "requireServiceAccount": true,
					"requiredServiceAccountAnnotationKeys": []string{"example.com/role"},
				},
			})
			sas := newFakeSAs(serviceAccount("uid-1", map[string]string{"example.com/role": "FAKE-SECRET-ANNOTATION"}))
			for range 2 {
				_, _ = p.Lookup(ctx, "reg.example/app", testPod, sas)
			}
			underlier, ok := logger.GetSink().(ktesting.Underlier)
			if !ok {
				t.Fatalf("logger sink is a %T, want a ktesting.Underlier", logger.GetSink())
			}
			logs.WriteString(underlier.GetBuffer().String())
			text := underlier.GetBuffer().String()
			for _, secret := range secrets {
				if strings.Contains(text, secret) {
					t.Errorf("logs contain %q:\n%s", secret, text)
				}
			}
		})
	}
	if !strings.Contains(logs.String(), "Credential provider plugin") {
		t.Errorf("nothing was logged; the test checks nothing:\n%s", logs.String())
	}
}

func TestMetricsPerExecution(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	p := newProviders(t, plugin.Options{}, providerSpec{
		name: "metered", match: []string{"reg.example"}, cacheDuration: "1h",
		env: map[string]string{"FAKE_PLUGIN_AUTH": "reg.example=u:p"},
	})
	// The metrics are process-wide: compare with what earlier runs left.
	countBefore, _ := testutil.GetHistogramMetricCount(plugin.PluginDuration.WithLabelValues("metered"))
	errsBefore, _ := testutil.GetCounterMetricValue(plugin.PluginErrors.WithLabelValues("metered"))
	for range 3 {
		if _, err := p.Lookup(ctx, "reg.example/app", testPod, nil); err != nil {
			t.Fatalf("Lookup() error = %v", err)
		}
	}
	// One execution, then two cache hits, which run nothing.
	count, err := testutil.GetHistogramMetricCount(plugin.PluginDuration.WithLabelValues("metered"))
	if err != nil || count != countBefore+1 {
		t.Errorf("duration observations = %d (%v), want %d", count, err, countBefore+1)
	}
	errs, err := testutil.GetCounterMetricValue(plugin.PluginErrors.WithLabelValues("metered"))
	if err != nil || errs != errsBefore {
		t.Errorf("errors = %v (%v), want %v", errs, err, errsBefore)
	}
	// Registered with the legacy registry under the kubelet subsystem.
	plugin.RegisterMetrics() // again: a no-op
	values, err := testutil.GetCounterValuesFromGatherer(legacyregistry.DefaultGatherer, "kubelet_credential_provider_plugin_errors_total", map[string]string{}, "plugin_name")
	if err != nil {
		t.Fatalf("gathering errors_total: %v", err)
	}
	if v, ok := values["metered"]; !ok || v != errsBefore {
		t.Errorf("kubelet_credential_provider_plugin_errors_total{plugin_name=metered} = %v (present %v), want %v", v, ok, errsBefore)
	}
	hist, err := testutil.GetHistogramVecFromGatherer(legacyregistry.DefaultGatherer, "kubelet_credential_provider_plugin_duration_seconds", map[string]string{"plugin_name": "metered"})
	if err != nil {
		t.Fatalf("gathering duration_seconds: %v", err)
	}
	if n := hist.GetAggregatedSampleCount(); n != countBefore+1 {
		t.Errorf("kubelet_credential_provider_plugin_duration_seconds{plugin_name=metered} count = %d, want %d", n, countBefore+1)
	}
}
