"use strict";(self.rspackChunknb_grader_student=self.rspackChunknb_grader_student||[]).push([[232],{475(e,r,t){var a=t(601),o=t.n(a),n=t(314),s=(t.n(n))()(o());s.push([e.id,`/* The Exercises panel and the Check exercises button (nb-grader-student). */

.grader-exercises-panel {
  overflow: auto;
  padding: 8px 12px;
  min-width: 280px;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
}

.grader-notebook-name {
  font-weight: 600;
  margin-bottom: 6px;
  word-break: break-all;
}

.grader-progress {
  display: flex;
  align-items: center;
  gap: 8px;
  margin: 6px 0;
}

.grader-progress-bar {
  flex: 1;
}

.grader-error {
  color: var(--jp-error-color1);
  margin: 6px 0;
  white-space: pre-wrap;
}

.grader-source {
  margin: 6px 0;
  font-style: italic;
  color: var(--jp-ui-font-color2);
}

.grader-exercise-table {
  border-collapse: collapse;
  width: 100%;
  margin: 6px 0;
}

.grader-exercise-table th {
  text-align: left;
  border-bottom: 1px solid var(--jp-border-color1);
  padding: 2px 6px;
}

.grader-exercise-row {
  cursor: pointer;
}

.grader-exercise-row td {
  padding: 3px 6px;
  border-top: 1px solid var(--jp-border-color2);
}

.grader-exercise-row:hover,
.grader-exercise-row.grader-selected {
  background: var(--jp-layout-color2);
}

.grader-exercise-points {
  text-align: right;
  white-space: nowrap;
}

.grader-status-passed .grader-exercise-status {
  color: var(--jp-success-color1);
}

.grader-status-failed .grader-exercise-status,
.grader-status-error .grader-exercise-status,
.grader-status-timeout .grader-exercise-status,
.grader-status-missing .grader-exercise-status {
  color: var(--jp-error-color1);
  font-weight: 600;
}

.grader-exercise-details {
  cursor: pointer;
}

.grader-exercise-message {
  margin: 2px 0 4px 12px;
  white-space: pre-wrap;
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  color: var(--jp-ui-font-color1);
}

.grader-total {
  font-weight: 600;
  margin: 6px 0;
}

.grader-note {
  color: var(--jp-ui-font-color2);
  margin: 2px 0;
}

.grader-actions {
  display: flex;
  gap: 8px;
  margin: 8px 0;
}

.grader-receipt {
  border: 1px solid var(--jp-border-color1);
  border-radius: 4px;
  padding: 6px 8px;
  background: var(--jp-layout-color2);
}
`,""]),t.d(r,{},{A:s})},314(e){e.exports=function(e){var r=[];return r.toString=function(){return this.map(function(r){var t="",a=void 0!==r[5];return r[4]&&(t+="@supports (".concat(r[4],") {")),r[2]&&(t+="@media ".concat(r[2]," {")),a&&(t+="@layer".concat(r[5].length>0?" ".concat(r[5]):""," {")),t+=e(r),a&&(t+="}"),r[2]&&(t+="}"),r[4]&&(t+="}"),t}).join("")},r.i=function(e,t,a,o,n){"string"==typeof e&&(e=[[null,e,void 0]]);var s={};if(a)for(var i=0;i<this.length;i++){var c=this[i][0];null!=c&&(s[c]=!0)}for(var p=0;p<e.length;p++){var d=[].concat(e[p]);a&&s[d[0]]||(void 0!==n&&(void 0===d[5]||(d[1]="@layer".concat(d[5].length>0?" ".concat(d[5]):""," {").concat(d[1],"}")),d[5]=n),t&&(d[2]&&(d[1]="@media ".concat(d[2]," {").concat(d[1],"}")),d[2]=t),o&&(d[4]?(d[1]="@supports (".concat(d[4],") {").concat(d[1],"}"),d[4]=o):d[4]="".concat(o)),r.push(d))}},r}},601(e){e.exports=function(e){return e[1]}},72(e){var r=[];function t(e){for(var t=-1,a=0;a<r.length;a++)if(r[a].identifier===e){t=a;break}return t}function a(e,a){for(var o={},n=[],s=0;s<e.length;s++){var i=e[s],c=a.base?i[0]+a.base:i[0],p=o[c]||0,d="".concat(c," ").concat(p);o[c]=p+1;var l=t(d),u={css:i[1],media:i[2],sourceMap:i[3],supports:i[4],layer:i[5]};if(-1!==l)r[l].references++,r[l].updater(u);else{var g=function(e,r){var t=r.domAPI(r);return t.update(e),function(r){r?(r.css!==e.css||r.media!==e.media||r.sourceMap!==e.sourceMap||r.supports!==e.supports||r.layer!==e.layer)&&t.update(e=r):t.remove()}}(u,a);a.byIndex=s,r.splice(s,0,{identifier:d,updater:g,references:1})}n.push(d)}return n}e.exports=function(e,o){var n=a(e=e||[],o=o||{});return function(e){e=e||[];for(var s=0;s<n.length;s++){var i=t(n[s]);r[i].references--}for(var c=a(e,o),p=0;p<n.length;p++){var d=t(n[p]);0===r[d].references&&(r[d].updater(),r.splice(d,1))}n=c}}},659(e){var r={};e.exports=function(e,t){var a=function(e){if(void 0===r[e]){var t=document.querySelector(e);if(window.HTMLIFrameElement&&t instanceof window.HTMLIFrameElement)try{t=t.contentDocument.head}catch(e){t=null}r[e]=t}return r[e]}(e);if(!a)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");a.appendChild(t)}},540(e){e.exports=function(e){var r=document.createElement("style");return e.setAttributes(r,e.attributes),e.insert(r,e.options),r}},56(e,r,t){e.exports=function(e){var r=t.nc;r&&e.setAttribute("nonce",r)}},825(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var r=e.insertStyleElement(e);return{update:function(t){var a,o,n;a="",t.supports&&(a+="@supports (".concat(t.supports,") {")),t.media&&(a+="@media ".concat(t.media," {")),(o=void 0!==t.layer)&&(a+="@layer".concat(t.layer.length>0?" ".concat(t.layer):""," {")),a+=t.css,o&&(a+="}"),t.media&&(a+="}"),t.supports&&(a+="}"),(n=t.sourceMap)&&"u">typeof btoa&&(a+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),e.styleTagTransform(a,r,e.options)},remove:function(){var e;null===(e=r).parentNode||e.parentNode.removeChild(e)}}}},113(e){e.exports=function(e,r){if(r.styleSheet)r.styleSheet.cssText=e;else{for(;r.firstChild;)r.removeChild(r.firstChild);r.appendChild(document.createTextNode(e))}}},579(e,r,t){var a=t(72),o=t.n(a),n=t(825),s=t.n(n),i=t(659),c=t.n(i),p=t(56),d=t.n(p),l=t(540),u=t.n(l),g=t(113),f=t.n(g),v=t(475),x={};x.styleTagTransform=f(),x.setAttributes=d(),x.insert=c().bind(null,"head"),x.domAPI=s(),x.insertStyleElement=u(),o()(v.A,x),v.A&&v.A.locals&&v.A.locals}}]);