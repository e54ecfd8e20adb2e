/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * The kgwttm nginx modules: the configuration both share.  The http module
 * keeps the switch per location, the stream module per server; both keep
 * the optname per http{} or stream{} block.
 */


#ifndef _NGX_KGWTTM_CONF_H_INCLUDED_
#define _NGX_KGWTTM_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* The kernel module refuses optnames below 64: those are IP_* options. */
#define NGX_KGWTTM_OPTNAME_MIN  64


typedef struct {
    ngx_int_t            optname;
} ngx_kgwttm_main_conf_t;


typedef struct {
    ngx_flag_t           real_ip;
} ngx_kgwttm_switch_conf_t;


void *ngx_kgwttm_create_main_conf(ngx_conf_t *cf);
char *ngx_kgwttm_init_main_conf(ngx_conf_t *cf, void *conf);
void *ngx_kgwttm_create_switch_conf(ngx_conf_t *cf);
char *ngx_kgwttm_merge_switch_conf(ngx_conf_t *cf, void *parent,
    void *child);
char *ngx_kgwttm_conf_set_optname(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_KGWTTM_CONF_H_INCLUDED_ */
