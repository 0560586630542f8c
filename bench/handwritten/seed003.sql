-- Seed 003: outbound connections from known suspicious or dual-use binaries (LOLBins), per RemoteUrl.
-- Hand-written DuckDB SQL; {{lake}} and {{now}} are substituted by the harness.
--
-- `in~` and `!endswith` are case-insensitive (compare lower-cased values); `in` and `==` are not.
-- dcount() is an estimate in Kusto; an exact count(DISTINCT) is what it converges to on small sets.
-- The process-name set is far more selective than the URL tests, so the URL tests run after it on the
-- few survivors (MATERIALIZED stops the optimizer from pushing them back into the scan).
WITH ev AS MATERIALIZED (
    SELECT RemoteUrl, DeviceName, RemoteIPType, RemotePort, InitiatingProcessParentFileName,
           InitiatingProcessFileName, RemoteIP, InitiatingProcessCommandLine
    FROM read_parquet('{{lake}}/DeviceNetworkEvents/**/*.parquet')
    WHERE Timestamp > {{now}} - INTERVAL 30 DAY
      AND ActionType = 'ConnectionSuccess'
      AND RemoteIPType <> 'Private'
      AND lower(InitiatingProcessFileName) IN (                        -- SuspiciousExecutables
       'appinstaller.exe', 'cmd.exe', 'aspnet_compiler.exe', 'at.exe', 'atbroker.exe', 'bash.exe',
       'bitsadmin.exe', 'certoc.exe', 'certreq.exe', 'certutil.exe', 'cmdkey.exe', 'cmdl32.exe',
       'cmstp.exe', 'configsecuritypolicy.exe', 'conhost.exe', 'control.exe', 'csc.exe', 'cscript.exe',
       'customshellhost.exe', 'datasvcutil.exe', 'desktopimgdownldr.exe', 'devicecredentialdeployment.exe',
       'dfsvc.exe', 'diantz.exe', 'diskshadow.exe', 'dnscmd.exe', 'esentutl.exe', 'eventvwr.exe',
       'expand.exe', 'explorer.exe', 'extexport.exe', 'extrac32.exe', 'findstr.exe', 'finger.exe',
       'fltmc.exe', 'forfiles.exe', 'ftp.exe', 'gpscript.exe', 'hh.exe', 'imewdbld.exe', 'ie4uinit.exe',
       'ieexec.exe', 'ilasm.exe', 'infdefaultinstall.exe', 'installutil.exe', 'jsc.exe', 'ldifde.exe',
       'makecab.exe', 'mavinject.exe', 'microsoft.workflow.compiler.exe', 'mmc.exe', 'mpcmdrun.exe',
       'msbuild.exe', 'msconfig.exe', 'msdt.exe', 'mshta.exe', 'msiexec.exe', 'netsh.exe', 'odbcconf.exe',
       'offlinescannershell.exe', 'onedrivestandaloneupdater.exe', 'pcalua.exe', 'pcwrun.exe',
       'pktmon.exe', 'pnputil.exe', 'presentationhost.exe', 'print.exe', 'printbrm.exe', 'psr.exe',
       'rasautou.exe', 'rdrleakdiag.exe', 'reg.exe', 'regasm.exe', 'regedit.exe', 'regini.exe',
       'register-cimprovider.exe', 'regsvcs.exe', 'regsvr32.exe', 'replace.exe', 'rpcping.exe',
       'rundll32.exe', 'runexehelper.exe', 'runonce.exe', 'runscripthelper.exe', 'sc.exe', 'schtasks.exe',
       'scriptrunner.exe', 'setres.exe', 'settingsynchost.exe', 'stordiag.exe',
       'syncappvpublishingserver.exe', 'ttdinject.exe', 'tttracer.exe', 'unregmp2.exe', 'vbc.exe',
       'verclsid.exe', 'wab.exe', 'winget.exe', 'wlrmdr.exe', 'wmic.exe', 'workfolders.exe', 'wscript.exe',
       'wsreset.exe', 'wuauclt.exe', 'xwizard.exe', 'fsutil.exe', 'wt.exe', 'gfxdownloadwrapper.exe',
       'advpack.dll', 'desk.cpl', 'dfshim.dll', 'ieadvpack.dll', 'ieframe.dll', 'mshtml.dll', 'pcwutl.dll',
       'setupapi.dll', 'shdocvw.dll', 'shell32.dll', 'syssetup.dll', 'url.dll', 'zipfldr.dll',
       'comsvcs.dll', 'acccheckconsole.exe', 'adplus.exe', 'agentexecutor.exe', 'appvlp.exe', 'bginfo.exe',
       'cdb.exe', 'coregen.exe', 'createdump.exe', 'csi.exe', 'defaultpack.exe', 'devinit.exe')
)
SELECT
    RemoteUrl,
    count(*) AS ConnectionCount,
    count(DISTINCT DeviceName) AS DistinctHostCount,
    to_json(list(DISTINCT DeviceName)) AS set_DeviceName,
    to_json(list(DISTINCT RemoteIPType)) AS set_RemoteIPType,
    to_json(coalesce(list(DISTINCT RemotePort) FILTER (WHERE RemotePort IS NOT NULL), [])) AS set_RemotePort,
    to_json(list(DISTINCT InitiatingProcessParentFileName)) AS set_InitiatingProcessParentFileName,
    to_json(list(DISTINCT InitiatingProcessFileName)) AS set_InitiatingProcessFileName,
    to_json(list(DISTINCT RemoteIP)) AS set_RemoteIP,
    to_json(list(DISTINCT InitiatingProcessCommandLine)) AS set_InitiatingProcessCommandLine
FROM ev
WHERE RemoteUrl <> 'login.live.com'                                    -- ExclusionList
  AND NOT (ends_with(lower(RemoteUrl), 'measure.office.com') OR ends_with(lower(RemoteUrl), 'windows.net')
           OR ends_with(lower(RemoteUrl), 'office.com') OR ends_with(lower(RemoteUrl), 'msn.com')
           OR ends_with(lower(RemoteUrl), 'microsoft.com'))
GROUP BY RemoteUrl
ORDER BY ConnectionCount ASC NULLS FIRST;
