/* The hardened Job and the code ConfigMap: every field DESIGN.md lists,
 * and the Pod Security Standards "restricted" profile's requirements. */
#include "testutil.h"

#include "internal.h"

static gkx_manifest_spec base_spec(void)
{
	gkx_manifest_spec s;

	memset(&s, 0, sizeof(s));
	s.name = "sandbox-run-abc12345";
	s.ns = "team-a";
	s.image = "python:3.11-slim";
	s.script_name = "hello.py";
	s.interpreter = "python3";
	s.cpu_limit = "500m";
	s.cpu_request = "125m";
	s.memory_limit = "512Mi";
	s.memory_request = "128Mi";
	s.timeout_s = 300;
	s.ttl_s = 600;
	s.runtime_class = "gvisor";
	return s;
}

static void test_job_metadata(void **state)
{
	gkx_manifest_spec s = base_spec();
	cJSON *job = gkx__manifest_job(&s);

	(void)state;
	assert_non_null(job);
	assert_json_string(job, "apiVersion", "batch/v1");
	assert_json_string(job, "kind", "Job");
	assert_json_string(job, "metadata.name", "sandbox-run-abc12345");
	assert_json_string(job, "metadata.namespace", "team-a");
	cJSON_Delete(job);
}

static void test_job_labels(void **state)
{
	gkx_manifest_spec s = base_spec();
	cJSON *job = gkx__manifest_job(&s);
	const cJSON *labels = at(job, "metadata.labels");
	const cJSON *tlabels = at(job, "spec.template.metadata.labels");

	(void)state;
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(labels, "app.kubernetes.io/managed-by")
	                            ->valuestring,
	                    "kubectl-sandbox-run");
	assert_string_equal(
	        cJSON_GetObjectItemCaseSensitive(labels, "sandbox-run.gkexec.dev/run")->valuestring,
	        "sandbox-run-abc12345");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(tlabels, "sandbox-run.gkexec.dev/run")
	                            ->valuestring,
	                    "sandbox-run-abc12345");
	cJSON_Delete(job);
}

static void test_job_hardening(void **state)
{
	gkx_manifest_spec s = base_spec();
	cJSON *job = gkx__manifest_job(&s);
	const cJSON *pod = at(job, "spec.template.spec");
	const cJSON *c = at(pod, "containers.0");

	(void)state;
	assert_non_null(pod);
	/* Job */
	assert_json_number(job, "spec.backoffLimit", 0);
	assert_json_number(job, "spec.activeDeadlineSeconds", 300);
	assert_json_number(job, "spec.ttlSecondsAfterFinished", 600);
	/* Pod */
	assert_json_string(pod, "runtimeClassName", "gvisor");
	assert_json_string(pod, "tolerations.0.key", "sandbox.gke.io/runtime");
	assert_json_string(pod, "tolerations.0.operator", "Equal");
	assert_json_string(pod, "tolerations.0.value", "gvisor");
	assert_json_string(pod, "tolerations.0.effect", "NoSchedule");
	assert_json_string(pod, "restartPolicy", "Never");
	assert_json_number(pod, "terminationGracePeriodSeconds", 1);
	assert_json_bool(pod, "automountServiceAccountToken", 0);
	assert_json_bool(pod, "enableServiceLinks", 0);
	assert_json_bool(pod, "securityContext.runAsNonRoot", 1);
	assert_json_number(pod, "securityContext.runAsUser", 1001);
	assert_json_number(pod, "securityContext.runAsGroup", 1001);
	assert_json_string(pod, "securityContext.seccompProfile.type", "RuntimeDefault");
	assert_null(at(pod, "hostNetwork"));
	assert_null(at(pod, "hostPID"));
	assert_null(at(pod, "hostIPC"));
	/* Container */
	assert_int_equal(cJSON_GetArraySize(at(pod, "containers")), 1);
	assert_json_string(c, "image", "python:3.11-slim");
	assert_json_string(c, "imagePullPolicy", "IfNotPresent");
	assert_json_bool(c, "securityContext.allowPrivilegeEscalation", 0);
	assert_json_bool(c, "securityContext.privileged", 0);
	assert_json_bool(c, "securityContext.readOnlyRootFilesystem", 1);
	assert_json_bool(c, "securityContext.runAsNonRoot", 1);
	assert_int_equal(cJSON_GetArraySize(at(c, "securityContext.capabilities.drop")), 1);
	assert_json_string(c, "securityContext.capabilities.drop.0", "ALL");
	assert_null(at(c, "securityContext.capabilities.add"));
	assert_json_string(c, "resources.limits.cpu", "500m");
	assert_json_string(c, "resources.limits.memory", "512Mi");
	assert_json_string(c, "resources.limits.ephemeral-storage", "128Mi");
	assert_json_string(c, "resources.requests.cpu", "125m");
	assert_json_string(c, "resources.requests.memory", "128Mi");
	assert_json_string(c, "resources.requests.ephemeral-storage", "16Mi");
	/* Volumes: the code read-only with mode 0444, a bounded writable /tmp:
	 * a tmpfs, which a kubelet sizes at sizeLimit (ENOSPC past it); on
	 * disk, sizeLimit is only checked by evictions, long after. */
	assert_json_string(c, "volumeMounts.0.name", "code");
	assert_json_string(c, "volumeMounts.0.mountPath", "/app");
	assert_json_bool(c, "volumeMounts.0.readOnly", 1);
	assert_json_string(c, "volumeMounts.1.name", "tmp");
	assert_json_string(c, "volumeMounts.1.mountPath", "/tmp");
	assert_json_string(pod, "volumes.0.name", "code");
	assert_json_string(pod, "volumes.0.configMap.name", "sandbox-run-abc12345");
	assert_json_number(pod, "volumes.0.configMap.defaultMode", 0444);
	assert_json_string(pod, "volumes.1.name", "tmp");
	assert_json_string(pod, "volumes.1.emptyDir.sizeLimit", "64Mi");
	assert_json_string(pod, "volumes.1.emptyDir.medium", "Memory");
	assert_int_equal(cJSON_GetArraySize(at(pod, "volumes.1.emptyDir")), 2);
	assert_int_equal(cJSON_GetArraySize(at(pod, "volumes")), 2);
	cJSON_Delete(job);
}

static void test_job_command_and_env(void **state)
{
	static const char *const env[] = { "A=1", "B=x=y" };
	gkx_manifest_spec s = base_spec();
	cJSON *job;
	const cJSON *c;

	(void)state;
	s.env = env;
	s.nenv = 2;
	job = gkx__manifest_job(&s);
	c = at(job, "spec.template.spec.containers.0");
	assert_json_string(c, "command.0", "/bin/sh");
	assert_json_string(c, "command.1", "-c");
	assert_json_string(c, "command.2", "exec \"$0\" \"$@\" 2>&1");
	assert_json_string(c, "command.3", "python3");
	assert_json_string(c, "command.4", "/app/hello.py");
	assert_int_equal(cJSON_GetArraySize(at(c, "command")), 5);
	cJSON_Delete(job);

	/* The script's arguments follow its path, unchanged. */
	{
		static const char *const args[] = { "--rows", "a b", "" };
		s.args = args;
		s.nargs = 3;
	}
	job = gkx__manifest_job(&s);
	c = at(job, "spec.template.spec.containers.0");
	assert_json_string(c, "command.4", "/app/hello.py");
	assert_json_string(c, "command.5", "--rows");
	assert_json_string(c, "command.6", "a b");
	assert_json_string(c, "command.7", "");
	assert_int_equal(cJSON_GetArraySize(at(c, "command")), 8);
	assert_json_string(c, "env.0.name", "PYTHONUNBUFFERED");
	assert_json_string(c, "env.0.value", "1");
	assert_json_string(c, "env.2.name", "HOME");
	assert_json_string(c, "env.2.value", "/tmp");
	assert_json_string(c, "env.3.name", "A");
	assert_json_string(c, "env.3.value", "1");
	assert_json_string(c, "env.4.name", "B");
	assert_json_string(c, "env.4.value", "x=y");
	cJSON_Delete(job);

	/* No Python variables for a shell script. */
	s.script_name = "run.sh";
	s.nenv = 0;
	job = gkx__manifest_job(&s);
	c = at(job, "spec.template.spec.containers.0");
	assert_json_string(c, "env.0.name", "HOME");
	assert_int_equal(cJSON_GetArraySize(at(c, "env")), 1);
	cJSON_Delete(job);
}

static void test_configmap_owner(void **state)
{
	gkx_manifest_spec s = base_spec();
	gkx_file files[3];
	cJSON *cm;

	(void)state;
	files[0].name = "hello.py";
	files[0].data = "print('hi')\n";
	files[0].len = strlen(files[0].data);
	files[1].name = "data.txt";
	files[1].data = "caf\xc3\xa9";
	files[1].len = 5;
	files[2].name = "blob.bin";
	files[2].data = "\x00\xff\x10";
	files[2].len = 3;
	s.job_uid = "1234-uid";
	cm = gkx__manifest_configmap(&s, files, 3);
	assert_non_null(cm);
	assert_json_string(cm, "apiVersion", "v1");
	assert_json_string(cm, "kind", "ConfigMap");
	assert_json_string(cm, "metadata.name", "sandbox-run-abc12345");
	assert_json_string(cm, "metadata.namespace", "team-a");
	assert_json_string(cm, "metadata.ownerReferences.0.apiVersion", "batch/v1");
	assert_json_string(cm, "metadata.ownerReferences.0.kind", "Job");
	assert_json_string(cm, "metadata.ownerReferences.0.name", "sandbox-run-abc12345");
	assert_json_string(cm, "metadata.ownerReferences.0.uid", "1234-uid");
	assert_json_bool(cm, "immutable", 1);
	cJSON_Delete(cm);
}

static void test_configmap_data(void **state)
{
	gkx_manifest_spec s = base_spec();
	gkx_file files[3];
	cJSON *cm;
	const cJSON *data, *bin;

	(void)state;
	files[0].name = "hello.py";
	files[0].data = "print('hi')\n";
	files[0].len = strlen(files[0].data);
	files[1].name = "data.txt";
	files[1].data = "caf\xc3\xa9";
	files[1].len = 5;
	files[2].name = "blob.bin";
	files[2].data = "\x00\xff\x10";
	files[2].len = 3;
	cm = gkx__manifest_configmap(&s, files, 3);
	data = at(cm, "data");
	bin = at(cm, "binaryData");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "hello.py")->valuestring,
	                    "print('hi')\n");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "data.txt")->valuestring,
	                    "caf\xc3\xa9");
	/* Not UTF-8 (and a NUL): binaryData, base64 */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(bin, "blob.bin")->valuestring, "AP8Q");
	assert_null(at(cm, "metadata.ownerReferences")); /* no uid yet: dry-run */
	cJSON_Delete(cm);
}

static void test_requests_follow_limits(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "1", 0), 0);
	assert_string_equal(out, "125m");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "2", 0), 0);
	assert_string_equal(out, "250m");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "0.5", 0), 0);
	assert_string_equal(out, "63m");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "4m", 0), 0);
	assert_string_equal(out, "1m");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "512Mi", 1), 0);
	assert_string_equal(out, "128Mi");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "1Gi", 1), 0);
	assert_string_equal(out, "256Mi");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "3Mi", 1), 0);
	assert_string_equal(out, "768Ki");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "1G", 1), 0);
	assert_string_equal(out, "250000000");
	assert_int_equal(gkx__manifest_request_for(out, sizeof(out), "lots", 1), GKX_EINVAL);
}

static void test_quantities_and_names(void **state)
{
	(void)state;
	assert_true(gkx__manifest_valid_quantity("500m"));
	assert_true(gkx__manifest_valid_quantity("1.5"));
	assert_true(gkx__manifest_valid_quantity("64Mi"));
	assert_false(gkx__manifest_valid_quantity(""));
	assert_false(gkx__manifest_valid_quantity("-1"));
	assert_false(gkx__manifest_valid_quantity("1.Mi"));
	assert_false(gkx__manifest_valid_quantity("12 Mi"));
	assert_false(gkx__manifest_valid_quantity("0"));
	assert_true(gkx__manifest_valid_file_name("hello_world-2.py"));
	assert_false(gkx__manifest_valid_file_name("../etc/passwd"));
	assert_false(gkx__manifest_valid_file_name("a/b.py"));
	assert_false(gkx__manifest_valid_file_name(".."));
	assert_false(gkx__manifest_valid_file_name(""));
}

static void test_command_for_extension(void **state)
{
	(void)state;
	assert_string_equal(gkx__manifest_interpreter("a.py"), "python3");
	assert_string_equal(gkx__manifest_interpreter("a.sh"), "sh");
	assert_string_equal(gkx__manifest_interpreter("a.bash"), "bash");
	assert_string_equal(gkx__manifest_interpreter("a.js"), "node");
	assert_string_equal(gkx__manifest_interpreter("a.rb"), "ruby");
	assert_string_equal(gkx__manifest_interpreter("a.pl"), "perl");
	assert_null(gkx__manifest_interpreter("a.exe"));
	assert_null(gkx__manifest_interpreter(".py"));
}

/* A Job whose code the client sends by exec: the container waits, /app
 * is an empty writable directory, and no ConfigMap is mounted. */
static void test_exec_delivery_job(void **state)
{
	gkx_manifest_spec s = base_spec();
	cJSON *job;
	const cJSON *pod;
	char *text;

	(void)state;
	s.exec_delivery = 1;
	job = gkx__manifest_job(&s);
	pod = at(job, "spec.template.spec");
	assert_json_string(pod, "containers.0.command.2", GKX_PARK_COMMAND);
	assert_json_string(pod, "volumes.0.name", "code");
	assert_json_string(pod, "volumes.0.emptyDir.sizeLimit", "4Mi");
	/* The script can write to this /app too: a tmpfs, as /tmp is. */
	assert_json_string(pod, "volumes.0.emptyDir.medium", "Memory");
	assert_json_string(pod, "volumes.1.emptyDir.medium", "Memory");
	assert_json_string(pod, "containers.0.volumeMounts.0.mountPath", "/app");
	assert_true(cJSON_IsFalse(at(pod, "containers.0.volumeMounts.0.readOnly")));
	assert_true(cJSON_IsTrue(at(pod, "containers.0.securityContext.readOnlyRootFilesystem")));
	text = cJSON_PrintUnformatted(job);
	assert_null(strstr(text, "configMap"));
	assert_null(strstr(text, "hello.py"));
	cJSON_free(text);
	cJSON_Delete(job);
}

/* A parked pod: the script will write to its /tmp and /app; both are
 * sized tmpfs, as a run's own Job has them. */
static void test_parked_pod_dirs_are_tmpfs(void **state)
{
	gkx_manifest_spec s = base_spec();
	cJSON *job;
	const cJSON *pod;

	(void)state;
	s.pool = "0123456789abcdef";
	s.pool_ttl_s = 900;
	job = gkx__manifest_job(&s);
	pod = at(job, "spec.template.spec");
	assert_json_string(pod, "volumes.0.name", "code");
	assert_json_string(pod, "volumes.0.emptyDir.medium", "Memory");
	assert_json_string(pod, "volumes.0.emptyDir.sizeLimit", "4Mi");
	assert_json_string(pod, "volumes.1.name", "tmp");
	assert_json_string(pod, "volumes.1.emptyDir.medium", "Memory");
	assert_json_string(pod, "volumes.1.emptyDir.sizeLimit", "64Mi");
	assert_json_string(pod, "containers.0.resources.limits.ephemeral-storage", "128Mi");
	cJSON_Delete(job);
}

/* --network=none: selects exactly the run's pod (the label the Job puts on
 * it), names both policy types and gives no rule: nothing in, nothing out. */
static void test_network_policy_denies_all(void **state)
{
	gkx_manifest_spec s = base_spec();
	cJSON *np, *job;
	const cJSON *types, *sel, *tlabels;

	(void)state;
	s.job_uid = "uid-9";
	np = gkx__manifest_network_policy(&s);
	job = gkx__manifest_job(&s);
	assert_non_null(np);
	assert_json_string(np, "apiVersion", "networking.k8s.io/v1");
	assert_json_string(np, "kind", "NetworkPolicy");
	assert_json_string(np, "metadata.name", "sandbox-run-abc12345");
	assert_json_string(np, "metadata.namespace", "team-a");
	assert_json_string(np, "metadata.ownerReferences.0.kind", "Job");
	assert_json_string(np, "metadata.ownerReferences.0.name", "sandbox-run-abc12345");
	assert_json_string(np, "metadata.ownerReferences.0.uid", "uid-9");
	sel = at(np, "spec.podSelector.matchLabels");
	assert_int_equal(cJSON_GetArraySize(sel), 1);
	/* The selector matches the label of the Job's pod template. */
	tlabels = at(job, "spec.template.metadata.labels");
	assert_string_equal(
	        cJSON_GetObjectItemCaseSensitive(sel, "sandbox-run.gkexec.dev/run")->valuestring,
	        cJSON_GetObjectItemCaseSensitive(tlabels, "sandbox-run.gkexec.dev/run")
	                ->valuestring);
	types = at(np, "spec.policyTypes");
	assert_int_equal(cJSON_GetArraySize(types), 2);
	assert_json_string(np, "spec.policyTypes.0", "Ingress");
	assert_json_string(np, "spec.policyTypes.1", "Egress");
	assert_null(at(np, "spec.ingress"));
	assert_null(at(np, "spec.egress"));
	cJSON_Delete(np);
	cJSON_Delete(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_metadata),
		cmocka_unit_test(test_configmap_owner),
		cmocka_unit_test(test_job_labels),
		cmocka_unit_test(test_job_hardening),
		cmocka_unit_test(test_job_command_and_env),
		cmocka_unit_test(test_configmap_data),
		cmocka_unit_test(test_requests_follow_limits),
		cmocka_unit_test(test_quantities_and_names),
		cmocka_unit_test(test_command_for_extension),
		cmocka_unit_test(test_network_policy_denies_all),
		cmocka_unit_test(test_exec_delivery_job),
		cmocka_unit_test(test_parked_pod_dirs_are_tmpfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
