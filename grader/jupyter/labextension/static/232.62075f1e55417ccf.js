"use strict";(self.rspackChunknb_grader_dashboard=self.rspackChunknb_grader_dashboard||[]).push([[232],{475(r,e,a){var o=a(601),t=a.n(o),n=a(314),d=(a.n(n))()(t());d.push([r.id,`/* The Grader dashboard: JupyterLab's theme variables, so it follows light and dark. */

.grader-dashboard {
  overflow: auto;
  padding: 12px 20px 24px;
  color: var(--jp-ui-font-color1);
  background: var(--jp-layout-color1);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
}

.grader-section {
  margin-bottom: 20px;
}

.grader-section h2 {
  margin: 8px 0;
  font-size: var(--jp-ui-font-size3);
  font-weight: 600;
}

.grader-section-heading {
  display: flex;
  gap: 12px;
  align-items: center;
}

.grader-assignment-list {
  margin: 0;
  padding: 0;
  list-style: none;
}

.grader-assignment {
  margin: 6px 0;
  padding: 8px 10px;
  border: var(--jp-border-width) solid var(--jp-border-color2);
  border-radius: 4px;
}

.grader-assignment-title {
  font-weight: 600;
}

.grader-assignment-details {
  margin: 2px 0 6px;
  color: var(--jp-ui-font-color2);
}

.grader-release-result {
  margin-top: 6px;
}

.grader-change-list {
  margin: 4px 0;
  padding-left: 20px;
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
}

.grader-change-added {
  color: var(--jp-success-color1);
}

.grader-change-removed {
  color: var(--jp-error-color1);
}

.grader-form-row {
  display: flex;
  gap: 8px;
  align-items: center;
  margin: 6px 0;
}

.grader-form-row input {
  width: 22em;
  margin-left: 6px;
}

.grader-progress {
  margin: 10px 0;
}

.grader-progress-bar {
  overflow: hidden;
  width: 100%;
  max-width: 520px;
  height: 12px;
  border-radius: 6px;
  background: var(--jp-layout-color3);
}

.grader-progress-fill {
  height: 100%;
  background: var(--jp-brand-color1);
  transition: width 0.3s ease;
}

.grader-progress-bar[data-state='failed'] .grader-progress-fill {
  background: var(--jp-error-color1);
}

.grader-progress-text {
  margin-top: 4px;
  color: var(--jp-ui-font-color2);
}

.grader-message {
  white-space: pre-wrap;
}

.grader-error {
  color: var(--jp-error-color1);
}

.grader-stats {
  color: var(--jp-ui-font-color2);
}

.grader-downloads {
  display: flex;
  gap: 8px;
  margin: 8px 0 12px;
}

.grader-download {
  padding: 2px 10px;
  text-decoration: none;
}

.grader-charts {
  display: flex;
  flex-wrap: wrap;
  gap: 24px;
}

.grader-chart {
  margin: 0;
}

.grader-chart figcaption {
  margin-bottom: 4px;
  font-weight: 600;
}

.grader-histogram-bar {
  fill: var(--jp-brand-color1);
}

.grader-pass-rate-track {
  fill: var(--jp-layout-color3);
}

.grader-pass-rate-bar {
  fill: var(--jp-success-color1);
}

.grader-chart-axis {
  stroke: var(--jp-ui-font-color2);
}

.grader-chart-label,
.grader-chart-value,
.grader-chart-tick {
  fill: var(--jp-ui-font-color1);
  font-size: 11px;
}

.grader-chart-tick {
  fill: var(--jp-ui-font-color2);
}

.grader-table-holder {
  overflow-x: auto;
  margin-top: 12px;
}

.grader-grade-table {
  border-collapse: collapse;
}

.grader-grade-table th,
.grader-grade-table td {
  padding: 3px 8px;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
  text-align: left;
  white-space: nowrap;
}

.grader-grade-table th.grader-sortable {
  cursor: pointer;
  user-select: none;
}

.grader-grade-table th[aria-sort='ascending']::after {
  content: ' ▲';
}

.grader-grade-table th[aria-sort='descending']::after {
  content: ' ▼';
}

.grader-status-unreadable,
.grader-status-not_graded,
.grader-exercise-failed,
.grader-exercise-error,
.grader-exercise-timeout,
.grader-exercise-missing {
  color: var(--jp-error-color1);
}

.grader-status-missing {
  color: var(--jp-warn-color1);
}

.grader-dashboard button.jp-mod-styled {
  padding: 0 12px;
  border-radius: 2px;
  cursor: pointer;
}

.grader-dashboard button.jp-mod-styled:not(.jp-mod-accept) {
  border: var(--jp-border-width) solid var(--jp-border-color1);
  background: var(--jp-layout-color2);
  color: var(--jp-ui-font-color1);
}

.grader-dashboard button.jp-mod-styled:disabled {
  cursor: default;
  opacity: 0.5;
}

.grader-dashboard a.grader-download {
  border: var(--jp-border-width) solid var(--jp-border-color1);
  border-radius: 2px;
  color: var(--jp-content-link-color);
}

.grader-dashboard a.grader-feedback-link {
  color: var(--jp-content-link-color);
}
`,""]),a.d(e,{},{A:d})},314(r){r.exports=function(r){var e=[];return e.toString=function(){return this.map(function(e){var a="",o=void 0!==e[5];return e[4]&&(a+="@supports (".concat(e[4],") {")),e[2]&&(a+="@media ".concat(e[2]," {")),o&&(a+="@layer".concat(e[5].length>0?" ".concat(e[5]):""," {")),a+=r(e),o&&(a+="}"),e[2]&&(a+="}"),e[4]&&(a+="}"),a}).join("")},e.i=function(r,a,o,t,n){"string"==typeof r&&(r=[[null,r,void 0]]);var d={};if(o)for(var i=0;i<this.length;i++){var s=this[i][0];null!=s&&(d[s]=!0)}for(var c=0;c<r.length;c++){var l=[].concat(r[c]);o&&d[l[0]]||(void 0!==n&&(void 0===l[5]||(l[1]="@layer".concat(l[5].length>0?" ".concat(l[5]):""," {").concat(l[1],"}")),l[5]=n),a&&(l[2]&&(l[1]="@media ".concat(l[2]," {").concat(l[1],"}")),l[2]=a),t&&(l[4]?(l[1]="@supports (".concat(l[4],") {").concat(l[1],"}"),l[4]=t):l[4]="".concat(t)),e.push(l))}},e}},601(r){r.exports=function(r){return r[1]}},72(r){var e=[];function a(r){for(var a=-1,o=0;o<e.length;o++)if(e[o].identifier===r){a=o;break}return a}function o(r,o){for(var t={},n=[],d=0;d<r.length;d++){var i=r[d],s=o.base?i[0]+o.base:i[0],c=t[s]||0,l="".concat(s," ").concat(c);t[s]=c+1;var p=a(l),g={css:i[1],media:i[2],sourceMap:i[3],supports:i[4],layer:i[5]};if(-1!==p)e[p].references++,e[p].updater(g);else{var u=function(r,e){var a=e.domAPI(e);return a.update(r),function(e){e?(e.css!==r.css||e.media!==r.media||e.sourceMap!==r.sourceMap||e.supports!==r.supports||e.layer!==r.layer)&&a.update(r=e):a.remove()}}(g,o);o.byIndex=d,e.splice(d,0,{identifier:l,updater:u,references:1})}n.push(l)}return n}r.exports=function(r,t){var n=o(r=r||[],t=t||{});return function(r){r=r||[];for(var d=0;d<n.length;d++){var i=a(n[d]);e[i].references--}for(var s=o(r,t),c=0;c<n.length;c++){var l=a(n[c]);0===e[l].references&&(e[l].updater(),e.splice(l,1))}n=s}}},659(r){var e={};r.exports=function(r,a){var o=function(r){if(void 0===e[r]){var a=document.querySelector(r);if(window.HTMLIFrameElement&&a instanceof window.HTMLIFrameElement)try{a=a.contentDocument.head}catch(r){a=null}e[r]=a}return e[r]}(r);if(!o)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");o.appendChild(a)}},540(r){r.exports=function(r){var e=document.createElement("style");return r.setAttributes(e,r.attributes),r.insert(e,r.options),e}},56(r,e,a){r.exports=function(r){var e=a.nc;e&&r.setAttribute("nonce",e)}},825(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var e=r.insertStyleElement(r);return{update:function(a){var o,t,n;o="",a.supports&&(o+="@supports (".concat(a.supports,") {")),a.media&&(o+="@media ".concat(a.media," {")),(t=void 0!==a.layer)&&(o+="@layer".concat(a.layer.length>0?" ".concat(a.layer):""," {")),o+=a.css,t&&(o+="}"),a.media&&(o+="}"),a.supports&&(o+="}"),(n=a.sourceMap)&&"u">typeof btoa&&(o+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),r.styleTagTransform(o,e,r.options)},remove:function(){var r;null===(r=e).parentNode||r.parentNode.removeChild(r)}}}},113(r){r.exports=function(r,e){if(e.styleSheet)e.styleSheet.cssText=r;else{for(;e.firstChild;)e.removeChild(e.firstChild);e.appendChild(document.createTextNode(r))}}},579(r,e,a){var o=a(72),t=a.n(o),n=a(825),d=a.n(n),i=a(659),s=a.n(i),c=a(56),l=a.n(c),p=a(540),g=a.n(p),u=a(113),f=a.n(u),v=a(475),h={};h.styleTagTransform=f(),h.setAttributes=l(),h.insert=s().bind(null,"head"),h.domAPI=d(),h.insertStyleElement=g(),t()(v.A,h),v.A&&v.A.locals&&v.A.locals}}]);