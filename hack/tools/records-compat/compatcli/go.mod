// The command line shared by the records-compat tools modules (one per
// released minor version under hack/tools/records-compat/release-*): the
// protocol the driver test (test/compat/records) speaks, and the checks
// that do not depend on a release. Standard library only, so that it adds
// nothing to a release's dependencies. Never imported by the product.
module k8s.io/kubernetes/hack/tools/records-compat/compatcli

go 1.26.0
