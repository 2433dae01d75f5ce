#ifndef VIRIDIAN_PAM_SHIM_H
#define VIRIDIAN_PAM_SHIM_H

/// Checks `user`'s `password` through PAM's `service` stack (authenticate, then account).
/// Returns 0 when both pass, the failing PAM status otherwise, -1 when PAM cannot start.
int viridian_pam_check(const char *service, const char *user, const char *password);

/// PAM's text for a status `viridian_pam_check` returned.
const char *viridian_pam_reason(int status);

#endif
