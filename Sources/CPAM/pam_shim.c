#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include "pam_shim.h"

/// Answers every password prompt with the password; refuses anything else a module asks.
static int answer(int count, const struct pam_message **messages, struct pam_response **responses, void *data) {
    if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    struct pam_response *replies = calloc((size_t)count, sizeof(struct pam_response));
    if (replies == NULL) return PAM_BUF_ERR;
    for (int index = 0; index < count; index++) {
        switch (messages[index]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            replies[index].resp = strdup((const char *)data);
            if (replies[index].resp == NULL) goto fail;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            break;
        default:
            goto fail;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
fail:
    for (int index = 0; index < count; index++) free(replies[index].resp);
    free(replies);
    return PAM_CONV_ERR;
}

int viridian_pam_check(const char *service, const char *user, const char *password) {
    struct pam_conv conversation = { answer, (void *)password };
    pam_handle_t *handle = NULL;
    int status = pam_start(service, user, &conversation, &handle);
    if (status != PAM_SUCCESS) return -1;
    status = pam_authenticate(handle, PAM_DISALLOW_NULL_AUTHTOK | PAM_SILENT);
    if (status == PAM_SUCCESS) status = pam_acct_mgmt(handle, PAM_DISALLOW_NULL_AUTHTOK | PAM_SILENT);
    pam_end(handle, status);
    return status;
}

const char *viridian_pam_reason(int status) {
    if (status < 0) return "PAM could not start";
    return pam_strerror(NULL, status);
}
