/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * The kgwttm nginx modules: kgwttm_real_ip and kgwttm_optname, the same in
 * http and stream.  The optname defaults to the ABI's TTM_SO_GET_PEER (1345);
 * another one is only worth giving when the kernel module was loaded with
 * optname=N, so nginx -t refuses what the kernel module would refuse too.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <kgwttm.h>

#include "ngx_kgwttm_conf.h"


void *
ngx_kgwttm_create_main_conf(ngx_conf_t *cf)
{
    ngx_kgwttm_main_conf_t  *kmcf;

    kmcf = ngx_palloc(cf->pool, sizeof(ngx_kgwttm_main_conf_t));
    if (kmcf == NULL) {
        return NULL;
    }

    kmcf->optname = NGX_CONF_UNSET;

    return kmcf;
}


char *
ngx_kgwttm_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_kgwttm_main_conf_t  *kmcf = conf;

    ngx_conf_init_value(kmcf->optname, TTM_SO_GET_PEER);

    return NGX_CONF_OK;
}


void *
ngx_kgwttm_create_switch_conf(ngx_conf_t *cf)
{
    ngx_kgwttm_switch_conf_t  *kscf;

    kscf = ngx_palloc(cf->pool, sizeof(ngx_kgwttm_switch_conf_t));
    if (kscf == NULL) {
        return NULL;
    }

    kscf->real_ip = NGX_CONF_UNSET;

    return kscf;
}


char *
ngx_kgwttm_merge_switch_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_kgwttm_switch_conf_t  *prev = parent;
    ngx_kgwttm_switch_conf_t  *conf = child;

    ngx_conf_merge_value(conf->real_ip, prev->real_ip, 0);

    return NGX_CONF_OK;
}


/* kgwttm_optname N: the number the kernel module was loaded with. */

char *
ngx_kgwttm_conf_set_optname(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t  *np, n;
    ngx_str_t  *value;

    np = (ngx_int_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < NGX_KGWTTM_OPTNAME_MIN || n >= NGX_MAX_INT32_VALUE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid kgwttm_optname \"%V\": give the "
                           "getsockopt number the kgwttm kernel module was "
                           "loaded with (its optname= parameter, %d by "
                           "default), an integer from %d to %d",
                           &value[1], TTM_SO_GET_PEER,
                           NGX_KGWTTM_OPTNAME_MIN, NGX_MAX_INT32_VALUE - 1);
        return NGX_CONF_ERROR;
    }

    *np = n;

    return NGX_CONF_OK;
}
