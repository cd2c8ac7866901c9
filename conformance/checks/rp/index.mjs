// Third-party relying parties, each driven end to end as its own check.
import openidClient from './openid-client.mjs';
import { positive as oauth4webapi, negative as oauth4webapiNegative } from './oauth4webapi.mjs';
import modAuthOpenidc from './mod-auth-openidc.mjs';
import authlib from './authlib.mjs';

export default [openidClient, oauth4webapi, oauth4webapiNegative, modAuthOpenidc, authlib];
