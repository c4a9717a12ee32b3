/*
 * Unit tests for the host probe (src/hostprobe.c): the decision from the
 * facts, the HYVE_HOST_KIND override, and fact gathering pointed elsewhere
 * with HYVE_KVM_DEVICE and HYVE_SYSFS_ROOT.  No KVM needed.
 */
#include "unit.h"
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "hostprobe.h"

static struct host_facts facts(bool kvm_ok, bool pvm, bool virt)
{
	struct host_facts f;

	memset(&f, 0, sizeof(f));
	strcpy(f.dev, "/dev/kvm");
	strcpy(f.pvm_path, "/sys/module/kvm_pvm");
	f.kvm_ok = kvm_ok;
	if (!kvm_ok)
		strcpy(f.kvm_err, "cannot open /dev/kvm: No such file or directory");
	f.pvm_module = pvm;
	f.cpu_virt = virt;
	return f;
}

static void test_decide_none(void **state)
{
	struct host_probe p;
	/* no working device: none, whatever else is true */
	for (int pvm = 0; pvm < 2; pvm++) {
		for (int virt = 0; virt < 2; virt++) {
			struct host_facts f = facts(false, pvm, virt);
			host_decide(&f, &p);
			assert_int_equal(p.kind, HOST_NONE);
			assert_non_null(strstr(p.reason, "cannot open /dev/kvm"));
		}
	}
	struct host_facts f = facts(false, false, true);
	f.kvm_err[0] = '\0';
	host_decide(&f, &p);
	assert_int_equal(p.kind, HOST_NONE);
	assert_true(strlen(p.reason) > 10);
}

static void test_decide_restricted(void **state)
{
	struct host_probe p;
	struct host_facts f = facts(true, true, false);	/* kvm_pvm, as on the dev machines */

	host_decide(&f, &p);
	assert_int_equal(p.kind, HOST_RESTRICTED);
	assert_non_null(strstr(p.reason, "kvm_pvm"));
	assert_non_null(strstr(p.reason, "/sys/module/kvm_pvm"));

	f = facts(true, true, true);	/* the marker wins over the CPU flags */
	host_decide(&f, &p);
	assert_int_equal(p.kind, HOST_RESTRICTED);

	f = facts(true, false, false);	/* a KVM without VMX/SVM, no marker */
	host_decide(&f, &p);
	assert_int_equal(p.kind, HOST_RESTRICTED);
	assert_non_null(strstr(p.reason, "neither VMX nor SVM"));
}

static void test_decide_kvm(void **state)
{
	struct host_probe p;
	struct host_facts f = facts(true, false, true);

	host_decide(&f, &p);
	assert_int_equal(p.kind, HOST_KVM);
	assert_non_null(strstr(p.reason, "/dev/kvm"));
}

static void test_names(void **state)
{
	enum host_kind k;

	assert_string_equal(host_kind_name(HOST_KVM), "kvm");
	assert_string_equal(host_kind_name(HOST_RESTRICTED), "restricted");
	assert_string_equal(host_kind_name(HOST_NONE), "none");
	assert_string_equal(host_kind_name((enum host_kind)7), "?");
	assert_int_equal(host_kind_parse("kvm", &k), 0);
	assert_int_equal(k, HOST_KVM);
	assert_int_equal(host_kind_parse("restricted", &k), 0);
	assert_int_equal(k, HOST_RESTRICTED);
	assert_int_equal(host_kind_parse("none", &k), 0);
	assert_int_equal(k, HOST_NONE);
	assert_int_equal(host_kind_parse("KVM", &k), -EINVAL);
	assert_int_equal(host_kind_parse("", &k), -EINVAL);
	assert_int_equal(host_kind_parse("kvm ", &k), -EINVAL);
	assert_int_equal(host_kind_parse(NULL, &k), -EINVAL);
}

static void test_forced(void **state)
{
	struct host_probe p;
	const char *names[] = { "kvm", "restricted", "none" };
	enum host_kind kinds[] = { HOST_KVM, HOST_RESTRICTED, HOST_NONE };

	setenv("HYVE_KVM_DEVICE", "/nonexistent/kvm", 1);	/* not even looked at */
	for (int i = 0; i < 3; i++) {
		setenv("HYVE_HOST_KIND", names[i], 1);
		assert_int_equal(host_probe(&p), 0);
		assert_int_equal(p.kind, kinds[i]);
		assert_non_null(strstr(p.reason, "HYVE_HOST_KIND"));
	}
	setenv("HYVE_HOST_KIND", "pvm", 1);
	assert_int_equal(host_probe(&p), -EINVAL);
	assert_non_null(strstr(err_msg(), "HYVE_HOST_KIND='pvm'"));
	setenv("HYVE_HOST_KIND", "", 1);	/* empty: not set */
	assert_int_equal(host_probe(&p), 0);
	assert_int_equal(p.kind, HOST_NONE);
	unsetenv("HYVE_HOST_KIND");
	unsetenv("HYVE_KVM_DEVICE");
}

/* HYVE_SYSFS_ROOT and HYVE_KVM_DEVICE point the facts elsewhere. */
static void test_gather_overrides(void **state)
{
	char root[] = "/tmp/hyve-sysfs.XXXXXX", path[300];
	struct host_facts f;
	struct host_probe p;

	assert_non_null(mkdtemp(root));
	setenv("HYVE_SYSFS_ROOT", root, 1);
	setenv("HYVE_KVM_DEVICE", "/nonexistent/kvm", 1);
	unsetenv("HYVE_HOST_KIND");

	host_facts_gather(&f);
	assert_string_equal(f.dev, "/nonexistent/kvm");
	assert_false(f.kvm_ok);
	assert_non_null(strstr(f.kvm_err, "/nonexistent/kvm"));
	assert_false(f.pvm_module);
	assert_string_equal(err_msg(), "");	/* the probe leaves no error behind */

	snprintf(path, sizeof(path), "%s/module", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/module/kvm_pvm", root);
	assert_int_equal(mkdir(path, 0755), 0);
	host_facts_gather(&f);
	assert_true(f.pvm_module);
	assert_string_equal(f.pvm_path, path);

	/* a device that is no KVM (ioctls fail): none, naming the device */
	setenv("HYVE_KVM_DEVICE", "/dev/null", 1);
	assert_int_equal(host_probe(&p), 0);
	assert_int_equal(p.kind, HOST_NONE);
	assert_non_null(strstr(p.reason, "/dev/null"));

	rmdir(path);
	snprintf(path, sizeof(path), "%s/module", root);
	rmdir(path);
	rmdir(root);
	unsetenv("HYVE_SYSFS_ROOT");
	unsetenv("HYVE_KVM_DEVICE");
}

TEST_MAIN(NULL, NULL,
	  TEST(test_decide_none),
	  TEST(test_decide_restricted),
	  TEST(test_decide_kvm),
	  TEST(test_names),
	  TEST(test_forced),
	  TEST(test_gather_overrides))
