/* AgencyDesk admin: small behaviours shared by every page. */
